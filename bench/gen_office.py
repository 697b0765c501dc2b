#!/usr/bin/env python3
"""Writes the generated office plan of dsl/tests/support/mod.rs (the `compile`
benchmark's plan) for N extensions, as one .dial file, so the server can load the same
plan the compile figures in docs/performance.md are for. Only change: the trunks' hosts
are loopback addresses (127.0.1.x), so the server resolves nothing and never sends to
another machine.

Usage: gen_office.py EXTENSIONS OUT.dial     (EXTENSIONS a multiple of 1000)
"""

import sys

FIRST_EXTENSION = 100_000
FIRST_QUEUE = 900_000


def office_plan(extensions):
    assert extensions % 1000 == 0 and extensions > 0
    ext = lambda i: FIRST_EXTENSION + i
    queue = lambda q: FIRST_QUEUE + q
    s = []
    w = s.append
    w(f"""# Generated office plan: {extensions} extensions (bench/gen_office.py).

settings {{
    extension_digits = 6
    operator         = {ext(0)}
    language         = "en"
    timezone         = "America/Chicago"
    ring             = 20s
}}

trunk "main" {{
    host      "127.0.1.254"
    numbers   "+12605550100", "+12605550101"
    caller_id "+12605550100"
}}

park SP1, SP2

dial "{{ext:1XXXXX}}"          -> extension ext
dial "{{n:NXXNXXXXXX}}"        -> trunk "main" to "+1{{n}}"
dial "1{{n:NXXNXXXXXX}}"       -> trunk "main" to "+1{{n}}"
dial "+1{{n:NXXNXXXXXX}}"      -> trunk "main" to "+1{{n}}"
dial "{{n:NXXXXX.}}"           -> play "invalid-number" then hangup
dial "1{{n:X.}}"               -> play "invalid-number" then hangup
dial "+{{n:X.}}"               -> play "invalid-number" then hangup
dial "999"                    -> flow voicemail_login
dial "*4{{ext:1XXXXX}}"        -> voicemail ext
dial "*62"                    -> flow queue_login_all
dial "*63"                    -> flow queue_logout_all
dial "SP{{slot:[12]}}"         -> park_toggle "SP{{slot}}"
dial "411"                    -> directory

flow queue_login_all {{
    answer
    queue_login all
    hangup
}}

flow queue_logout_all {{
    answer
    queue_logout all
    hangup
}}

flow voicemail_login {{
    answer
    repeat 3 times {{
        ask "vm-enter-pin" digits 4..8 until "#" timeout 10s -> pin
        if pin_ok(caller, pin) {{
            mailbox open caller
            goto voicemail_main
        }}
        play "vm-bad-pin"
    }}
    play "goodbye"
    hangup
}}

flow voicemail_main {{
    mailbox say_count new
    menu "vm-main" timeout 10s {{
        "1" -> mailbox select new then mailbox play
        "#" -> play "goodbye" then hangup
        retries 3 -> play "goodbye" then hangup
        invalid -> play "invalid-option" then repeat
    }}
}}

""")
    for k in range(extensions // 1000):
        first = ext(k * 1000)
        g = k * 100
        q = queue(k * 10)
        w(f"""script closed_{k}() {{
    // Office {k}: open 8:00 to 18:00 on weekdays.
    time.weekday >= 6 || time.hour < 8 || time.hour >= 18
}}

script vip_{k}(number) {{
    number.len() > 4 && number.sub_string(0, 4) == "+120"
}}

trunk "site_{k}" {{ host "127.0.1.{k % 250 + 1}"; numbers "+1260556{k:04}" }}
inbound trunk "site_{k}" to "+1260556{k:04}" when closed_{k}() -> play "after-hours" then voicemail {first}
inbound trunk "site_{k}" to "+1260556{k:04}" -> flow ivr_{g}("0")
chat sms "+1260556{k:04}" when vip_{k}("+12605550000") -> extension {first}
chat sms "+1260556{k:04}" -> queue {q}

test "office {k} answers its number" {{
    call from {first} dial "{first}"
    expect extension {first}
}}

""")
    for q in range(extensions // 100):
        a = ext(q * 100)
        w(f'queue {queue(q)} "Team {q}" {{ agents {a}, {a + 1}, {a + 2}; managers {a}; '
          f"strategy ring_all; ring 20s; then -> voicemail {a} }}\n")
    w("\n")
    for g in range(extensions // 10):
        for i in range(g * 10, g * 10 + 10):
            n = ext(i)
            m = i % 4
            if m == 0:
                w(f'extension {n} "User {n}" {{ voicemail; pin "{i % 10_000:04}" }}\n')
            elif m == 1:
                w(f'extension {n} "User {n}" {{ voicemail; hot_desk; email "u{n}@example.com" }}\n')
            elif m == 2:
                w(f'extension {n} "User {n}" {{ voicemail; ring 30s }}\n')
            else:
                w(f'extension {n} "User {n}"\n')
        pattern = f"8{g:05}{{d:X}}" if g % 2 == 0 else f"7{g:05}{{d:XX}}"
        w(f'dial "{pattern}" -> flow ivr_{g}(d)\n')
        a, b = ext(g * 10), ext(g * 10 + 2)
        w(f"""flow ivr_{g}(d) {{
    ask "ticket-enter" digits 4 timeout 5s -> code
    if code == "{g % 10_000:04}" or d == "1" {{ extension {a} }} else {{ play "please-hold" }}
    menu "main-greeting" timeout 5s {{ "1" -> extension {a}; "2" -> voicemail {b}; "3" -> queue {queue(g // 10)}; invalid -> play "invalid-option" then repeat }}
}}
""")
    return "".join(s)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[2], "w") as f:
        f.write(office_plan(int(sys.argv[1])))
