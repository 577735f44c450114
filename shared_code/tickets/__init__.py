"""Internal tickets and remarks, and how they are linked to runs (technical notes, Critical Rules)."""
