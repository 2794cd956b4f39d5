"""Outbound delivery: next-hop resolution, SMTP sessions toward recipients, and scheduling."""
