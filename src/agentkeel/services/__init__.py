"""Domain services: functions that take a unit of work and enforce the rules."""
