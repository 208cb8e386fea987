"""The credit policy: a data file (grade matrix, check configuration, ramp-up) loaded at start-up."""
