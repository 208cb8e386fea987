"""What the alerts service knows about each buyer: reference data, exposure, account status and insurance cover, copied from the event stream."""
