"""Signed webhooks (Standard Webhooks) to sales and other systems: subscriptions, stored deliveries, retries."""
