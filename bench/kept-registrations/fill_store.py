#!/usr/bin/env python3
"""Gives every extension of bench/gen_office.py's office (100000 onwards) a SIP password
and one phone registered over UDP for another hour, straight into the store at DB, as
`switchboard user set-password` and a REGISTER would have left them.

Usage: fill_store.py DB EXTENSIONS
"""

import hashlib
import sqlite3
import sys
import time

REALM = "switchboard"
PASSWORD = "bench-only-passphrase-amber-kettle"


def ha1(algorithm, user):
    text = f"{user}:{REALM}:{PASSWORD}".encode()
    return hashlib.new(algorithm, text).hexdigest()


def main():
    db, extensions = sys.argv[1], int(sys.argv[2])
    users = [str(100_000 + i) for i in range(extensions)]
    expires_at = int(time.time() * 1000) + 3_600_000
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT OR REPLACE INTO sip_credentials (extension, realm, ha1_md5, ha1_sha256)"
            " VALUES (?, ?, ?, ?)",
            [(u, REALM, ha1("md5", u), ha1("sha256", u)) for u in users],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO sip_registrations"
            " (user, contact, source, expires_at, user_agent) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    u,
                    f"sip:{u}@10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:5060",
                    f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:5060",
                    expires_at,
                    "Yealink SIP-T46U",
                )
                for i, u in enumerate(users)
            ],
        )
    conn.close()


if __name__ == "__main__":
    main()
