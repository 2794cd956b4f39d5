"""The test servers of tests/tlsservers.py checked on their own: the HTTPS policy server picks
its certificate by SNI and its answer by Host, sends chunked bodies, and the STARTTLS server
upgrades, records what it received and can leave STARTTLS out of its EHLO reply."""

from __future__ import annotations

import asyncio
import smtplib

from certs import LocalCA
from tlsservers import Answer, PolicyServer, StarttlsServer


async def _get(server: PolicyServer, name: str) -> tuple[bytes, str]:
    context = server.ca.client_context()
    reader, writer = await asyncio.open_connection(
        server.host, server.port, ssl=context, server_hostname=name
    )
    writer.write(f"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    data = await reader.read()
    sslobj = writer.get_extra_info("ssl_object")
    subject = dict(x[0] for x in sslobj.getpeercert()["subject"])["commonName"]
    writer.close()
    return data, subject


async def test_server_picks_certificate_by_sni_and_answer_by_host(policy_server: PolicyServer) -> None:
    policy_server.serve("mta-sts.a.loc", Answer(body=b"A"))
    policy_server.serve("mta-sts.b.loc", Answer(status=302, location="https://elsewhere/"))
    data, subject = await _get(policy_server, "mta-sts.a.loc")
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nA")
    assert subject == "mta-sts.a.loc"
    data, subject = await _get(policy_server, "mta-sts.b.loc")
    assert data.startswith(b"HTTP/1.1 302") and b"Location: https://elsewhere/" in data
    assert subject == "mta-sts.b.loc"
    assert policy_server.requests == ["mta-sts.a.loc", "mta-sts.b.loc"]


async def test_server_sends_chunked_bodies(policy_server: PolicyServer) -> None:
    policy_server.serve("mta-sts.c.loc", Answer(body=b"x" * 5000, chunked=True))
    data, _ = await _get(policy_server, "mta-sts.c.loc")
    assert b"Transfer-Encoding: chunked" in data and data.endswith(b"0\r\n\r\n")


def test_starttls_server_offers_tls_and_records(local_ca: LocalCA) -> None:
    with (
        StarttlsServer(local_ca.issue()) as server,
        smtplib.SMTP(server.host, server.port) as client,
    ):
        client.starttls(context=local_ca.client_context())
        client.sendmail("a@b.test", ["c@d.test"], b"Subject: x\r\n\r\nbody\r\n")
    assert server.messages[0].tls and b"body" in server.messages[0].data
    assert server.commands == ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"]


def test_starttls_server_can_hide_starttls(local_ca: LocalCA) -> None:
    with (
        StarttlsServer(local_ca.issue(), advertise_starttls=False) as server,
        smtplib.SMTP(server.host, server.port) as client,
    ):
        client.ehlo()
        assert not client.has_extn("starttls")
        code, _ = client.docmd("STARTTLS")
        assert code == 454
        client.sendmail("a@b.test", ["c@d.test"], b"Subject: x\r\n\r\nbody\r\n")
    assert not server.messages[0].tls
    assert server.sessions == 1
