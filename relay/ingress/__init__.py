"""SMTP ingress: the aiosmtpd server, its handler, AUTH and limits."""
