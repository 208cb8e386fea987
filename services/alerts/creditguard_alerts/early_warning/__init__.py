"""Early-warning rules (data, editable through the API) and the alerts they raise, escalate and resolve."""
