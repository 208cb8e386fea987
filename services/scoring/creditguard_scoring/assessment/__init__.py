"""The assessment: probability of default, grade, risk class and reasons, kept current."""
