"""Shared fixtures: a real DNS server, a real SMTP sink and the real relay process."""

pytest_plugins = ["dnsserver", "sink", "relayproc", "tlsfixtures"]
