"""Domain layer: aggregates, rules, calendar and the application; free of I/O."""
