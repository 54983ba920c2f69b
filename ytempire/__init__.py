"""YTEmpire warehouse core."""
