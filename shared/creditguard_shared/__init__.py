"""Code the three creditguard services share; nothing here knows about a single service's domain."""
