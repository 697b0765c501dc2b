// A desk phone for the browser tests that need a real call on the server: SIP over UDP
// from Node, enough to call a number as an extension (answering the server's digest
// challenge), take the answer and hang up. Its media socket only receives.

import dgram from "node:dgram";
import { createHash, randomBytes } from "node:crypto";

const WAIT_MS = 10000;

export class Phone {
  // `server` is "host:port" of the server's SIP side.
  static async open(server) {
    const [host, port] = splitAddr(server);
    const sip = dgram.createSocket("udp4");
    const rtp = dgram.createSocket("udp4");
    await Promise.all([bind(sip), bind(rtp)]);
    rtp.on("message", () => {}); // the prompts the call plays; not listened to
    return new Phone(sip, rtp, host, port);
  }

  constructor(sip, rtp, host, port) {
    this.sip = sip;
    this.rtp = rtp;
    this.host = host;
    this.port = port;
    this.inbox = [];
    this.waiters = [];
    sip.on("message", (buf) => {
      const m = parse(buf.toString("utf8"));
      // The server's own requests (a BYE when the plan hangs up) are answered at once.
      if (m.method) this.sendRaw(reply(m, "200 OK"));
      this.inbox.push(m);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  close() {
    this.sip.close();
    this.rtp.close();
  }

  // Calls `number` as extension `user` (password `password`); resolves once the server
  // answered (200 to the INVITE, ACKed). Returns the dialog, for `hangUp`.
  async call(user, password, number) {
    const local = `127.0.0.1:${this.sip.address().port}`;
    const d = {
      user,
      callId: `${randomBytes(8).toString("hex")}@panels-test`,
      tag: randomBytes(4).toString("hex"),
      uri: `sip:${number}@${this.host}:${this.port}`,
      from: `<sip:${user}@${this.host}>`,
      to: `<sip:${number}@${this.host}>`,
      toTag: null,
      cseq: 1,
      local,
    };
    const sdp = offer(this.rtp.address().port);
    const first = await this.request(d, "INVITE", [`Contact: <sip:${user}@${local}>`, "Content-Type: application/sdp"], sdp);
    if (first.status !== 407 && first.status !== 401) throw new Error(`INVITE not challenged: ${first.start}`);
    this.sendRaw(ackFor(d, first));
    const header = first.status === 407 ? "proxy-authenticate" : "www-authenticate";
    const auth = answer(first.headers[header], "INVITE", d.uri, user, password);
    d.cseq = 2;
    const answerHeader = first.status === 407 ? "Proxy-Authorization" : "Authorization";
    const final = await this.request(
      d,
      "INVITE",
      [`Contact: <sip:${user}@${local}>`, "Content-Type: application/sdp", `${answerHeader}: ${auth}`],
      sdp,
    );
    if (final.status !== 200) throw new Error(`the call was not answered: ${final.start}`);
    d.toTag = /;tag=([^;>\s]+)/.exec(final.headers.to)?.[1] || null;
    d.media = mediaOf(final.body);
    const contact = /<([^>]+)>/.exec(final.headers.contact || "")?.[1];
    d.target = contact || d.uri;
    this.sendRaw(build("ACK", d, d.cseq, branch(), []));
    return d;
  }

  // Presses `keys` on dialog `d`: RFC 4733 telephone-events to the server's media
  // address, one start packet and three end packets per key, each key its own
  // timestamp (the server takes a key at the first packet of a new timestamp).
  async press(d, keys) {
    if (!d.media || d.media.event === null) throw new Error("the answer offers no telephone-event");
    const ssrc = 0x5a5a0001;
    d.rtp = d.rtp || { seq: 1000, ts: 8000 };
    for (const key of keys) {
      const event = "0123456789*#".indexOf(key);
      if (event < 0) throw new Error(`${key} is not a key`);
      d.rtp.ts += 1600;
      for (const [end, duration] of [[false, 400], [true, 800], [true, 800], [true, 800]]) {
        const packet = Buffer.alloc(16);
        packet[0] = 0x80;
        packet[1] = (end ? 0 : 0x80) | d.media.event; // the marker bit on an event's start
        packet.writeUInt16BE(d.rtp.seq++ & 0xffff, 2);
        packet.writeUInt32BE(d.rtp.ts >>> 0, 4);
        packet.writeUInt32BE(ssrc, 8);
        packet[12] = event;
        packet[13] = (end ? 0x80 : 0) | 10;
        packet.writeUInt16BE(duration, 14);
        await new Promise((resolve) => this.rtp.send(packet, d.media.port, d.media.host, resolve));
      }
    }
  }

  // Waits until the server hangs dialog `d` up (its BYE, answered on arrival).
  async hungUp(d) {
    await this.next((m) => m.method === "BYE" && m.headers["call-id"] === d.callId, 0);
  }

  // Hangs up dialog `d` (a BYE, its 200).
  async hangUp(d) {
    d.cseq += 1;
    const r = await this.request(d, "BYE", [], "");
    if (r.status !== 200) throw new Error(`BYE not taken: ${r.start}`);
  }

  // Sends a request and waits for its final response (past 1xx).
  async request(d, method, headers, body) {
    const b = branch();
    const seen = this.inbox.length;
    this.sendRaw(build(method, d, d.cseq, b, headers, body));
    const cseq = `${d.cseq} ${method}`;
    return this.next((m) => !m.method && m.headers["call-id"] === d.callId && m.headers.cseq === cseq && m.status >= 200, seen);
  }

  next(match, from) {
    const deadline = Date.now() + WAIT_MS;
    return new Promise((resolve, reject) => {
      const look = () => {
        const found = this.inbox.slice(from).find(match);
        if (found) return resolve(found);
        if (Date.now() > deadline) return reject(new Error("the SIP server did not answer in time"));
        this.waiters.push(look);
        setTimeout(() => {
          const i = this.waiters.indexOf(look);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            look();
          }
        }, 200);
      };
      look();
    });
  }

  sendRaw(text) {
    this.sip.send(Buffer.from(text, "utf8"), this.port, this.host);
  }
}

function build(method, d, cseq, b, headers, body = "") {
  const target = method === "INVITE" || !d.target ? d.uri : d.target;
  const lines = [
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${d.local};branch=${b};rport`,
    `From: ${d.from};tag=${d.tag}`,
    `To: ${d.to}${d.toTag ? `;tag=${d.toTag}` : ""}`,
    `Call-ID: ${d.callId}`,
    `CSeq: ${cseq} ${method}`,
    "Max-Forwards: 70",
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ];
  return lines.join("\r\n");
}

// The ACK of a non-2xx final response: same branch and CSeq number as the INVITE.
function ackFor(d, response) {
  const via = response.headers.via;
  const toTag = /;tag=([^;>\s]+)/.exec(response.headers.to)?.[1];
  return [
    `ACK ${d.uri} SIP/2.0`,
    `Via: ${via}`,
    `From: ${d.from};tag=${d.tag}`,
    `To: ${d.to}${toTag ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${d.callId}`,
    `CSeq: ${d.cseq} ACK`,
    "Max-Forwards: 70",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

function reply(request, status) {
  const h = request.headers;
  return [
    `SIP/2.0 ${status}`,
    `Via: ${h.via}`,
    `From: ${h.from}`,
    `To: ${h.to}`,
    `Call-ID: ${h["call-id"]}`,
    `CSeq: ${h.cseq}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

// RFC 2617 digest with qop=auth, MD5 (the server's default algorithm).
function answer(challenge, method, uri, user, password) {
  const param = (k) => new RegExp(`${k}="?([^",]+)"?`).exec(challenge)?.[1];
  const realm = param("realm");
  const nonce = param("nonce");
  const md5 = (s) => createHash("md5").update(s).digest("hex");
  const nc = "00000001";
  const cnonce = randomBytes(4).toString("hex");
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

// Where the server's media goes and its telephone-event payload type, from an answer.
function mediaOf(sdp) {
  const host = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  const port = Number(/^m=audio (\d+)/m.exec(sdp)?.[1]);
  const event = /^a=rtpmap:(\d+) telephone-event\/8000/im.exec(sdp)?.[1];
  return host && port ? { host, port, event: event === undefined ? null : Number(event) } : null;
}

function offer(port) {
  return [
    "v=0",
    `o=- 1 1 IN IP4 127.0.0.1`,
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP 0 101`,
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=sendrecv",
    "",
  ].join("\r\n");
}

// A message's start line, lower-cased headers (the first of each) and body.
function parse(text) {
  const [head, ...rest] = text.split("\r\n\r\n");
  const [start, ...lines] = head.split("\r\n");
  const headers = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(i + 1).trim();
  }
  const status = /^SIP\/2\.0 (\d{3})/.exec(start);
  return {
    start,
    status: status ? Number(status[1]) : null,
    method: status ? null : start.split(" ")[0],
    headers,
    body: rest.join("\r\n\r\n"),
  };
}

function branch() {
  return `z9hG4bK-panels-${randomBytes(6).toString("hex")}`;
}

function bind(socket) {
  return new Promise((resolve) => socket.bind(0, "127.0.0.1", resolve));
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
