// The live connection: reconnects with backoff and resumes with the last sequence number seen,
// so no event is lost; when the server cannot replay (restart, too long away) it sends a
// snapshot of the current state instead.

import { askToken, token } from "./api.js";

const MAX_DELAY = 10000;

export class Live {
  constructor({ onEvent, onSnapshot, onState }) {
    this.onEvent = onEvent;
    this.onSnapshot = onSnapshot;
    this.onState = onState;
    this.lastSeq = null;
    this.epoch = null;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const auth = token() ? `?token=${encodeURIComponent(token())}` : "";
    return `${scheme}://${location.host}/ws${auth}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.onState(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.onState("syncing"); // "live" once the snapshot or the missed events are in
      const hello = this.lastSeq === null ? { type: "hello" } : { since: this.lastSeq, epoch: this.epoch };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = async (event) => {
      if (this.ws !== ws) return;
      this.onState("offline");
      if (!opened || event.code === 1008) await this.maybeAskToken();
      this.schedule();
    };
  }

  async maybeAskToken() {
    // A refused handshake shows up as 1006 in browsers: ask only if the REST API refuses too.
    const used = token();
    try {
      const response = await fetch("/org", { headers: used ? { Authorization: `Bearer ${used}` } : {} });
      if (response.status === 401 && token() === used) await askToken();
    } catch {
      // the server is down: the backoff retries
    }
  }

  schedule() {
    const delay = Math.min(MAX_DELAY, 500 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "snapshot") {
      this.epoch = message.data.epoch;
      this.lastSeq = message.seq;
      this.onSnapshot(message.data);
      this.onState("live");
    } else if (message.type === "synced") {
      this.onState("live");
    } else if (message.type === "error" || message.type === "pong") {
      console.warn("server:", message.data);
    } else if (typeof message.seq === "number") {
      if (this.lastSeq !== null && message.seq <= this.lastSeq) return; // already seen
      this.lastSeq = message.seq;
      this.onEvent(message);
    }
  }

  // For tests and the curious: drop the connection as a network failure would.
  drop() {
    if (this.ws) this.ws.close();
  }
}
