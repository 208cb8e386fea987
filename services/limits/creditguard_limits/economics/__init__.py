"""Decision economics: what an order and a limit earn and risk, in money (pure rules)."""
