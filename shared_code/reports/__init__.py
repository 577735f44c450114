"""Customer reports (SPEC §7a): per customer and period, the runs of each job by effective status,
success rates, failing streaks, tickets, overrides in force; as JSON, CSV and PDF; the overview of
all customers, worst first; and the monthly delivery of each customer's PDF through Graph."""
