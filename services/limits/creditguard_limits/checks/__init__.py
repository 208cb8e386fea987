"""Order-entry credit checks: a decision within the request, a reservation for approved orders,
referrals for credit managers, and a stored explanation of every decision."""
