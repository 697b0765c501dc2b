#!/usr/bin/env python3
"""A storm of phones registering: users 100000 onwards each REGISTER once, with MD5
digest (qop=auth), from one UDP socket, started at RATE a second, as phones do when they
come back after a network outage. Prints how many got their 200 and the time from the
first REGISTER to the 200 (the challenge included), as p50, p99 and max.

sipp would be the usual driver, but Debian's cannot take a per-call user name into its
[authentication] keyword from an injection file, so this speaks the two round trips
itself. Standard library only.

Usage: register_storm.py HOST:PORT USERS RATE PASSWORD
"""

import asyncio
import hashlib
import re
import statistics
import sys
import time

REALM_RE = re.compile(r'realm="([^"]*)"')
NONCE_RE = re.compile(r'nonce="([^"]*)"')


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Storm(asyncio.DatagramProtocol):
    def __init__(self, server, password):
        self.server, self.password = server, password
        self.started, self.done, self.waiting = {}, {}, {}

    def connection_made(self, transport):
        self.transport = transport
        self.local = transport.get_extra_info("sockname")

    def register(self, user, cseq, authorization=""):
        host, port = self.server
        lhost, lport = self.local
        message = (
            f"REGISTER sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK-{user}-{cseq};rport\r\n"
            f"From: <sip:{user}@{host}>;tag={user}\r\n"
            f"To: <sip:{user}@{host}>\r\n"
            f"Call-ID: storm-{user}@{lhost}\r\n"
            f"CSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:{user}@{lhost}:{lport}>\r\n"
            f"{authorization}"
            "Max-Forwards: 70\r\nExpires: 3600\r\nUser-Agent: storm\r\nContent-Length: 0\r\n\r\n"
        )
        self.transport.sendto(message.encode(), self.server)

    def start(self, user):
        self.started[user] = time.perf_counter()
        self.register(user, 1)

    def datagram_received(self, data, addr):
        text = data.decode(errors="replace")
        status = text.split(" ", 2)[1] if text.startswith("SIP/2.0") else ""
        user = re.search(r"Call-ID: storm-(\d+)@", text)
        if not user:
            return
        user = user.group(1)
        if status == "401" and "CSeq: 1 REGISTER" in text:
            realm = REALM_RE.search(text).group(1)
            nonce = NONCE_RE.search(text).group(1)
            uri = f"sip:{self.server[0]}:{self.server[1]}"
            ha1 = md5(f"{user}:{realm}:{self.password}")
            ha2 = md5(f"REGISTER:{uri}")
            cnonce, nc = f"c{user}", "00000001"
            response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            self.register(user, 2, (
                f'Authorization: Digest username="{user}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5, '
                f'qop=auth, nc={nc}, cnonce="{cnonce}"\r\n'))
        elif status == "200" and user not in self.done:
            self.done[user] = time.perf_counter() - self.started[user]


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    users, rate, password = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    loop = asyncio.get_running_loop()
    _, storm = await loop.create_datagram_endpoint(
        lambda: Storm((host, int(port)), password), local_addr=("127.0.0.1", 0))
    begin = time.perf_counter()
    for i in range(users):
        # Paced from the start, not from the last send, so a slow step does not lower
        # the rate.
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        storm.start(str(100_000 + i))
    deadline = time.perf_counter() + 10
    while len(storm.done) < users and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    took = sorted(storm.done.values())
    if not took:
        print(f"storm: 0 of {users} phones registered")
        return
    p99 = took[min(len(took) - 1, int(0.99 * len(took)))]
    print(f"storm: {len(took)} of {users} phones registered at {rate:.0f}/s; REGISTER to 200 "
          f"p50 {statistics.median(took) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {took[-1] * 1000:.1f} ms")


asyncio.run(main())
