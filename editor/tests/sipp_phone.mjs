// A desk phone for the browser tests that need a real call on the server: sipp (Debian's
// sip-tester), the SIP tool the Rust tests use, playing sipp/desk_phone.xml. It calls a
// number as an extension (answering the server's digest challenge), takes the answer,
// presses keys (RFC 4733 events, sipp's own captures) and hangs up, or waits for the
// server to.
//
// A browser test acts between those steps (it looks at the page while the call is up), so
// sipp runs in 3PCC controller-A mode with this module as its twin: sipp connects to a TCP
// socket here, says "answered" when the call is up, and then waits for the test's next
// step ("X-Step: N"), answering each. Twin messages are SIP-like header lines ended by
// ESC (0x1b), sipp's framing on the twin socket. The call is sipp's throughout: this
// module never speaks SIP or RTP.

import net from "node:net";
import dgram from "node:dgram";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SIPP = "/usr/bin/sipp";
const SCENARIO = fileURLToPath(new URL("./sipp/desk_phone.xml", import.meta.url));
const WAIT_MS = 20000;
// The steps desk_phone.xml knows: keys 0-9, * and # are 0..11; 12 hangs up.
const KEYS = "0123456789*#";
const HANG_UP = 12;
const ESC = "\x1b";

export class Phone {
  // `server` is "host:port" of the server's SIP side.
  static async open(server) {
    const twin = net.createServer();
    await new Promise((resolve, reject) => {
      twin.once("error", reject);
      twin.listen(0, "127.0.0.1", resolve);
    });
    return new Phone(server, twin);
  }

  constructor(server, twin) {
    this.server = server;
    this.twin = twin;
    this.socket = null;
    this.said = []; // what sipp told us (its X-Phone lines), in order
    this.waiters = new Set();
    this.sipp = null;
    this.exit = null; // sipp's exit status, once it ended
    this.done = false; // the call ended as the scenario says, sipp's statistics agreeing
    this.dir = mkdtempSync(join(tmpdir(), "sipp-phone-"));
    twin.on("connection", (socket) => {
      this.socket = socket;
      let buffer = "";
      socket.on("data", (data) => {
        buffer += data.toString("latin1");
        let end;
        while ((end = buffer.indexOf(ESC)) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          this.callId = /^Call-ID:\s*(\S+)/im.exec(message)?.[1] || this.callId;
          const said = /^X-Phone:\s*(.+?)\s*$/im.exec(message)?.[1];
          if (said) this.said.push(said);
          this.wake();
        }
      });
      socket.on("error", () => {}); // sipp's exit closes it; the exit status tells
    });
  }

  close() {
    if (this.sipp && this.exit === null) this.sipp.kill();
    this.socket?.destroy();
    this.twin.close();
    // sipp's logs stay for a failure's message to point at; a good call leaves nothing.
    if (this.done) rmSync(this.dir, { recursive: true, force: true });
  }

  // Calls `number` as extension `user` (password `password`); resolves once the server
  // answered (200 to the authenticated INVITE, ACKed). Returns the call, for the rest.
  async call(user, password, number) {
    if (this.sipp) throw new Error("this phone is already in a call");
    const media = await evenFreePort();
    const args = [
      this.server,
      ...["-sf", SCENARIO, "-s", number, "-key", "caller", user],
      ...["-au", user, "-ap", password, "-m", "1"],
      ...["-i", "127.0.0.1", "-mp", String(media)],
      ...["-3pcc", `127.0.0.1:${this.twin.address().port}`],
      ...["-nostdin", "-timeout", "60s", "-timeout_error", "-trace_err", "-trace_screen"],
    ];
    this.sipp = spawn(SIPP, args, { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
    this.stderr = "";
    this.sipp.stderr.on("data", (d) => (this.stderr += d));
    this.sipp.on("error", (e) => {
      this.exit = `not started (${e.message}): install Debian's sip-tester`;
      this.wake();
    });
    this.sipp.on("exit", (code, signal) => {
      this.exit = code === null ? `killed by ${signal}` : code;
      this.wake();
    });
    const call = { user, number, heard: 0 };
    await this.hear(call, "answered", `${user} calling ${number} to be answered`);
    return call;
  }

  // Presses `keys` on `call`, one RFC 4733 event capture each, in order.
  async press(call, keys) {
    for (const key of keys) {
      const step = KEYS.indexOf(key);
      if (step < 0) throw new Error(`${key} is not a key (one of ${KEYS})`);
      this.tell(step);
      await this.hear(call, "pressed", `sipp to press ${key}`);
    }
  }

  // Waits until the server hangs `call` up (its BYE, answered by sipp), and sipp ends well.
  async hungUp(call) {
    await this.hear(call, "hung up by the server", `the server to hang up ${call.number}`);
    await this.ended(call);
  }

  // Hangs `call` up (a BYE, its 200), and sipp ends well.
  async hangUp(call) {
    this.tell(HANG_UP);
    await this.hear(call, "hung up", `the server to take ${call.user}'s BYE`);
    await this.ended(call);
  }

  tell(step) {
    if (!this.socket || !this.callId) throw new Error("sipp is not in a call");
    this.socket.write(`Call-ID: ${this.callId}\r\nX-Step: ${step}\r\n\r\n${ESC}`);
  }

  // Waits for sipp's next word on `call` to be `expected`: anything else, sipp ending first
  // or WAIT_MS passing is an error naming `what` and what sipp said and logged.
  async hear(call, expected, what) {
    await this.until(() => this.said.length > call.heard || this.exit !== null, what);
    if (this.said.length > call.heard) {
      const said = this.said[call.heard++];
      if (said === expected) return;
      throw new Error(`waiting for ${what}, sipp said "${said}"\n${this.log()}`);
    }
    throw new Error(`waiting for ${what}, sipp ended (${this.exit})\n${this.log()}`);
  }

  // Waits for sipp to end, with status 0: its one call completed as the scenario says.
  async ended(call) {
    await this.until(() => this.exit !== null, `sipp to end ${call.user}'s call`);
    if (this.exit !== 0) throw new Error(`sipp ended with ${this.exit}\n${this.log()}`);
    // Its final statistics (-trace_screen) agree: one call, successful, none failed.
    const screen = readdirSync(this.dir).find((f) => f.endsWith("_screen.log"));
    const stats = screen ? readFileSync(join(this.dir, screen), "latin1") : "";
    const count = (name) => Number(new RegExp(`${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(stats)?.[1]);
    if (count("Successful call") !== 1 || count("Failed call") !== 0) {
      throw new Error(`sipp's statistics do not show one successful call\n${this.log()}`);
    }
    this.done = true;
  }

  until(done, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`gave up waiting for ${what}\n${this.log()}`));
      }, WAIT_MS);
      this.waiters.add(check);
      check();
    });
  }

  wake() {
    [...this.waiters].forEach((check) => check());
  }

  // sipp's stderr, error log and final screen (its call counts), for a failure's message.
  log() {
    const files = readdirSync(this.dir).filter((f) => /_(errors|screen)\.log$/.test(f));
    const logs = files.map((f) => `--- ${f}\n${readFileSync(join(this.dir, f), "latin1").slice(-3000)}`);
    // Its stderr, less the lines it prints for every capture it loads.
    const stderr = this.stderr
      .split("\n")
      .filter((l) => !/^(In pcap |max pkt length |base port )/.test(l))
      .join("\n")
      .trim();
    return [`sipp's files: ${this.dir}`, stderr, ...logs].filter(Boolean).join("\n");
  }
}

// An even UDP port free right now, for sipp's media (RTP on it, RTCP on the next).
async function evenFreePort() {
  for (;;) {
    const socket = dgram.createSocket("udp4");
    await new Promise((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const port = socket.address().port;
    socket.close();
    if (port % 2 === 0 && port < 65534) return port;
  }
}
