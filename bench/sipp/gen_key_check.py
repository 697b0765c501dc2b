#!/usr/bin/env python3
"""Writes key_check.xml (target 2 of bench/README.md) from prompt_1s.xml: the same
signalling, calling 71K for the key K of -inf keys.csv, then one RFC 4733 key 8 s after
the answer, and a 5 s timeout on the server's BYE. Run it again after changing
prompt_1s.xml: python3 bench/sipp/gen_key_check.py"""

import os

here = os.path.dirname(os.path.abspath(__file__))
head = open(os.path.join(here, "prompt_1s.xml")).read()
# The signalling of prompt_1s.xml up to and including the ACK of the 200 OK.
body = head[head.index("<scenario") : head.index('<recv request="BYE"')]
body = body.replace(
    '<scenario name="INVITE, answer, 1 s prompt, BYE">',
    '<scenario name="INVITE, answer, long prompt, one RFC 4733 key, BYE">',
)
body = body.replace("[service]", "71[field0]")
body = body.replace(
    '<recv response="200" rrs="true" rtd="1" start_rtd="2">',
    '<recv response="200" rrs="true" rtd="1">',
)
out = [
    """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">

<!-- Load bench, target 2: extension 101 calls 71K (K from -inf bench/sipp/keys.csv),
     authenticates, is answered, and 8 s into the 10.2 s prompt presses K once as RFC 4733
     events (sipp's dtmf_2833_K.pcap, sent from [media_port]). The plan (bench/plan/bench.dial)
     hangs up about 1 s later only if it heard K; otherwise only after 10 s or more, which
     the 5 s BYE timeout below counts as a failed call. So "0 failed calls" means every key
     was detected, and detected as the right key.
     rtd 1: first INVITE -> 200 OK.  rtd 2: key sent -> the server's BYE.
     Written by gen_key_check.py from prompt_1s.xml; edit that, not this. -->
""",
    body,
    """  <!-- The key this call presses: the last digit it dialled. -->
  <nop>
    <action>
      <assignstr assign_to="key" value="[field0]"/>
      <todouble assign_to="k" variable="key"/>
""",
]
for d in range(10):
    out.append(f'      <test assign_to="is{d}" variable="k" compare="equal" value="{d}"/>\n')
out.append(
    """    </action>
  </nop>

  <!-- 8 s into the 10.2 s prompt. -->
  <pause milliseconds="8000"/>

"""
)
for d in range(10):
    out.append(f'  <nop test="is{d}" next="{10 + d}"/>\n')
out.append('  <nop next="20"/>\n\n')
for d in range(10):
    out.append(
        f"""  <label id="{10 + d}"/>
  <nop start_rtd="2">
    <action>
      <exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_{d}.pcap"/>
    </action>
  </nop>
  <nop next="21"/>
"""
    )
out.append(
    """
  <!-- No key chosen: cannot happen with bench/sipp/keys.csv; fail the call. -->
  <label id="20"/>
  <recv request="NEVER" timeout="1"/>

  <!-- The right key ends the call about 1 s later; a missed or wrong key first plays a
       10 s prompt (or waits the 20 s timeout), so this timeout fails the call. -->
  <label id="21"/>
  <recv request="BYE" timeout="5000" rtd="2">
  </recv>

  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:101@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>

  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000, 1100, 1200, 1500, 2000"/>
  <CallLengthRepartition value="5000, 8000, 9000, 9500, 10000, 11000, 15000"/>
</scenario>
"""
)
with open(os.path.join(here, "key_check.xml"), "w") as f:
    f.write("".join(out))
