"""Runs: creation, Run Checks, reviews, overrides, schedules and missed runs."""
