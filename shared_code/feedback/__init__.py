"""The Feedback module: operators report problems and wishes about the tool itself, vote on them
and discuss them, with screenshots kept in PostgreSQL beside the rows they belong to."""
