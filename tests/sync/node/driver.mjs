#!/usr/bin/env node
// Test driver for the sync service: real @hocuspocus/provider clients (v2 2.15.3, v3 3.4.4, v4 4.8.0)
// and raw `ws` sockets, controlled over stdin/stdout with JSON lines (used by tests/sync/node_driver.py).
//
//   request   {"id": 1, "cmd": "connect", "client": "a", "url": "ws://127.0.0.1:1234", "document": "d", ...}
//   response  {"id": 1, "ok": true, ...result}      or      {"id": 1, "ok": false, "error": "..."}
//   event     {"event": "synced", "client": "a", ...}       (asynchronous, any time)
//
// Exactly one response line per request; requests run concurrently (a pending waitFor does not block
// other commands). stdout carries only these JSON lines; logs, including the providers' console output,
// go to stderr. Exceptions never end the process; `quit` or the end of stdin does.
// Binary data (updates, state vectors, raw frames) travels as base64.
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import WebSocket from 'ws'
import readline from 'node:readline'

// ---------- output: stdout is reserved for the protocol ----------
const log = (...a) => process.stderr.write(`[driver] ${a.map((x) => (typeof x === 'string' ? x : safeJson(x))).join(' ')}\n`)
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => process.stderr.write(`[console.${k}] ${a.map(String).join(' ')}\n`)
function safeJson (x) { try { return JSON.stringify(x) } catch { return String(x) } }
function out (obj) { process.stdout.write(safeJson(obj) + '\n') }
const emit = (event, fields) => out({ event, ...fields })
process.on('uncaughtException', (e) => log('uncaughtException:', e?.stack ?? String(e)))
process.on('unhandledRejection', (e) => log('unhandledRejection:', e?.stack ?? String(e)))

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const b64 = (u8) => Buffer.from(u8.buffer ?? u8, u8.byteOffset ?? 0, u8.byteLength ?? u8.length).toString('base64')
const fromB64 = (s) => new Uint8Array(Buffer.from(String(s ?? ''), 'base64'))
const toU8 = (data) => {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
class UserError extends Error {}
const need = (args, key, type = 'string') => {
  const v = args[key]
  if (v === undefined || v === null || (type && typeof v !== type)) throw new UserError(`'${key}' (${type}) is required`)
  return v
}

// ---------- providers (loaded once, on first use) ----------
const VERSIONS = { v2: 'provider-v2', v3: 'provider-v3', v4: 'provider-v4' }
const providerModules = {}
async function providerModule (version) {
  if (!VERSIONS[version]) throw new UserError(`version must be one of ${Object.keys(VERSIONS).join(', ')}, got '${version}'`)
  providerModules[version] ??= await import(VERSIONS[version])
  return providerModules[version]
}

// Parses the envelope of a Hocuspocus frame: {doc, type, sub?, value?} or null (v4 bare ping/pong, garbage).
function peekFrame (u8) {
  try {
    if (u8.length === 1) return { doc: null, type: u8[0] }
    const d = decoding.createDecoder(u8)
    const doc = decoding.readVarString(d)
    const type = decoding.readVarUint(d)
    const f = { doc, type }
    if (type === 0 || type === 4 || type === 8) f.sub = decoding.readVarUint(d) // sync step, or SyncStatus value
    if ((type === 0 || type === 4) && (f.sub === 1 || f.sub === 2)) f.payload = decoding.readVarUint8Array(d)
    return f
  } catch { return null }
}

// Typing markers ~PREFIX:SEQ~ found verbatim in a v1 update (yjs stores inserted strings as UTF-8).
const markerSeqs = (payload, prefix) => {
  const s = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1')
  const re = new RegExp(`~${prefix.replace(/[^A-Za-z0-9_-]/g, '')}:(\\d+)~`, 'g')
  const seqs = []
  let m
  while ((m = re.exec(s)) !== null) seqs.push(Number(m[1]))
  return seqs
}

// ---------- provider sockets: a ws subclass that records the frames of every connection ----------
// One record per HocuspocusProviderWebsocket ("socket"), shared by the clients attached to it.
const sockets = new Map() // name -> {name, version, url, ws (HocuspocusProviderWebsocket), opens, clients:Set}
const clients = new Map() // name -> client record

function recordingWebSocket (sock) {
  return class RecordingWebSocket extends WebSocket {
    constructor (url, protocols, options) {
      super(url, protocols, options)
      this.on('open', () => { sock.opens++; for (const c of sock.clients) c.pending = [] })
      this.on('message', (data, isBinary) => {
        if (!isBinary) return
        const f = peekFrame(toU8(data))
        if (!f) return
        for (const c of sock.clients) if (c.document === f.doc) c.onReceived(f)
      })
    }

    // Like a browser, an exception thrown by the provider while handling one event must not affect the
    // next frames (in Node's ws it would escape into the socket's parser). It is reported instead: the
    // `providerError` event and `errors` in `status` (e.g. a v2 provider receiving CLOSE(7) throws).
    addEventListener (type, listener, options) {
      if (typeof listener !== 'function') return super.addEventListener(type, listener, options)
      this.wrapped ??= new Map()
      const wrapped = function (event) {
        try {
          return listener.call(this, event)
        } catch (e) {
          const f = type === 'message' && event?.data ? peekFrame(toU8(event.data)) : null
          const affected = [...sock.clients].filter((c) => !f || c.document === f.doc)
          for (const c of affected) c.errors.push(String(e?.message ?? e))
          emit('providerError', { socket: sock.name, clients: affected.map((c) => c.name), on: type, frameType: f?.type ?? null, error: String(e?.message ?? e) })
        }
      }
      this.wrapped.set(listener, wrapped)
      return super.addEventListener(type, wrapped, options)
    }

    removeEventListener (type, listener) {
      const wrapped = this.wrapped?.get(listener)
      if (wrapped) this.wrapped.delete(listener)
      return super.removeEventListener(type, wrapped ?? listener)
    }

    send (data, ...rest) {
      try {
        const f = peekFrame(toU8(data))
        if (f) for (const c of sock.clients) if (c.document === f.doc) c.onSent(f)
      } catch (e) { log('send record failed', e?.message) }
      return super.send(data, ...rest)
    }
  }
}

async function getSocket (name, version, url, parameters) {
  const { HocuspocusProviderWebsocket } = await providerModule(version)
  let sock = sockets.get(name)
  if (sock) {
    if (sock.version !== version || sock.url !== url) throw new UserError(`socket '${name}' exists with ${sock.version} ${sock.url}`)
    return sock
  }
  sock = { name, version, url, opens: 0, clients: new Set(), shared: false }
  const config = { url, WebSocketPolyfill: recordingWebSocket(sock), quiet: true }
  if (version === 'v2' && parameters) config.parameters = { ...parameters } // v2 appends them to the URL
  sock.ws = new HocuspocusProviderWebsocket(config)
  sockets.set(name, sock)
  return sock
}

function withParameters (url, parameters) {
  if (!parameters || !Object.keys(parameters).length) return url
  const u = new URL(url)
  for (const [k, v] of Object.entries(parameters)) u.searchParams.set(k, String(v))
  return u.toString()
}

const num = (x) => (typeof x === 'number' ? x : (x && typeof x === 'object' && typeof x.number === 'number' ? x.number : null))
const closeInfo = (e) => {
  const ev = e?.event ?? e
  return { code: ev?.code ?? null, reason: ev?.reason === undefined || ev?.reason === null ? null : String(ev.reason) }
}

async function cmdConnect (a) {
  const name = need(a, 'client')
  if (clients.has(name)) throw new UserError(`client '${name}' exists`)
  const url = need(a, 'url')
  const version = a.version ?? 'v3'
  const documentName = need(a, 'document')
  const mod = await providerModule(version)
  // v2's provider appends `parameters` to the URL itself; v3/v4 take the URL as given.
  const sockUrl = version === 'v2' ? url : withParameters(url, a.parameters)
  const sockName = a.socket ?? `client:${name}`
  const sock = await getSocket(sockName, version, sockUrl, a.parameters)
  if (a.socket) sock.shared = true

  const doc = new Y.Doc()
  const c = {
    name, version, document: documentName, doc, sock, provider: null,
    synced: false, authenticated: false, authFailed: null, scope: null, status: 'connecting',
    lastClose: null, unsyncedEvents: 0, acks: 0, rejected: 0, sentUpdates: 0, sentStep2: 0,
    received: {}, sent: {}, pending: [], typing: null, destroyed: false, errors: []
  }
  c.onReceived = (f) => {
    const k = String(f.type); c.received[k] = (c.received[k] ?? 0) + 1
    if (f.type !== 8) return
    const head = c.pending.shift()
    if (f.sub === 1) {
      c.acks++
      if (head && c.typing) for (const s of head.seqs) c.typing.acked.add(s)
    } else c.rejected++
  }
  c.onSent = (f) => {
    const k = String(f.type); c.sent[k] = (c.sent[k] ?? 0) + 1
    if (f.type !== 0 || (f.sub !== 1 && f.sub !== 2)) return
    if (f.sub === 2) c.sentUpdates++; else c.sentStep2++
    c.pending.push({ seqs: c.typing ? markerSeqs(f.payload, c.typing.prefix) : [] })
  }
  const config = {
    websocketProvider: sock.ws,
    name: documentName,
    document: doc,
    token: a.token ?? null,
    quiet: true,
    broadcast: false
  }
  if (a.awareness === false) config.awareness = null
  const provider = new mod.HocuspocusProvider(config)
  c.provider = provider
  sock.clients.add(c)
  clients.set(name, c)
  const ev = (event, fields = {}) => { if (!c.destroyed) emit(event, { client: name, ...fields }) }
  provider.on('authenticated', (e) => { c.authenticated = true; c.authFailed = null; c.scope = e?.scope ?? provider.authorizedScope ?? null; ev('authenticated', { scope: c.scope }) })
  provider.on('authenticationFailed', (e) => { c.authFailed = String(e?.reason ?? 'permission-denied'); c.authenticated = false; ev('authenticationFailed', { reason: c.authFailed }) })
  provider.on('synced', (e) => { const state = e?.state ?? true; c.synced = state; ev('synced', { state }) })
  provider.on('status', (e) => { c.status = e?.status ?? String(e); ev('status', { status: c.status }) })
  provider.on('connect', () => ev('connect'))
  provider.on('disconnect', (e) => { c.status = 'disconnected'; c.lastClose = closeInfo(e); ev('disconnect', c.lastClose) })
  provider.on('close', (e) => { c.lastClose = closeInfo(e); ev('close', c.lastClose) })
  provider.on('unsyncedChanges', (e) => { c.unsyncedEvents++; ev('unsyncedChanges', { changes: num(e) }) })
  provider.on('stateless', (e) => ev('stateless', { payload: e?.payload ?? null }))
  if (typeof provider.attach === 'function' && !provider.isAttached) provider.attach()
  return { client: name, socket: sockName, version }
}

function client (a) {
  const name = need(a, 'client')
  const c = clients.get(name)
  if (!c) throw new UserError(`no client '${name}'`)
  return c
}

function clientStatus (c) {
  const p = c.provider
  return {
    synced: Boolean(p.synced ?? p.isSynced ?? c.synced),
    unsyncedChanges: p.unsyncedChanges ?? null,
    hasUnsyncedChanges: Boolean(p.hasUnsyncedChanges),
    authorizedScope: p.authorizedScope ?? c.scope ?? null,
    isAuthenticated: Boolean(p.isAuthenticated),
    authenticationFailed: c.authFailed,
    status: c.sock.ws.status ?? c.status,
    reconnects: Math.max(0, c.sock.opens - 1),
    opens: c.sock.opens,
    acks: c.acks,
    rejected: c.rejected,
    sentUpdates: c.sentUpdates,
    sentStep2: c.sentStep2,
    pendingAcks: c.pending.length,
    receivedByType: c.received,
    sentByType: c.sent,
    lastClose: c.lastClose,
    errors: c.errors.slice(-20),
    clientID: c.doc.clientID
  }
}

function checkCondition (c, cond) {
  const p = c.provider
  if (cond === 'synced') return Boolean(p.synced ?? p.isSynced ?? c.synced) && (p.unsyncedChanges ?? 0) === 0
  if (cond === 'authenticated') return Boolean(p.isAuthenticated) || c.authenticated
  if (cond === 'authenticationFailed') return c.authFailed !== null
  if (cond === 'disconnected') return (c.sock.ws.status ?? c.status) === 'disconnected'
  if (cond === 'connected') return (c.sock.ws.status ?? c.status) === 'connected'
  const m = /^(text|textIncludes|xml|xmlIncludes|acks|reconnects|awareness|received|sent):([^=]*)(?:=([\s\S]*))?$/.exec(cond)
  if (!m) throw new UserError(`unknown condition '${cond}'`)
  const [, kind, field, value = ''] = m
  switch (kind) {
    case 'text': return c.doc.getText(field).toString() === value
    case 'textIncludes': return c.doc.getText(field).toString().includes(value)
    case 'xml': return c.doc.getXmlFragment(field).toString() === value
    case 'xmlIncludes': return c.doc.getXmlFragment(field).toString().includes(value)
    case 'acks': return c.acks >= Number(field || value) // acks:N -> at least N SyncStatus(1)
    case 'reconnects': return c.sock.opens - 1 >= Number(field || value)
    case 'awareness': return p.awareness && p.awareness.getStates().size >= Number(field || value) // awareness:N states
    case 'received': return (c.received[field] ?? 0) >= Number(value || 1) // received:TYPE[=N] frames of that type
    case 'sent': return (c.sent[field] ?? 0) >= Number(value || 1) // sent:TYPE[=N]
  }
  return false
}

async function cmdWaitFor (a) {
  const c = client(a)
  const cond = need(a, 'condition')
  const timeoutMs = Math.min(Number(a.timeoutMs ?? 10000), 600000)
  const t0 = Date.now()
  for (;;) {
    if (checkCondition(c, cond)) return { elapsedMs: Date.now() - t0 }
    if (Date.now() - t0 >= timeoutMs) throw new UserError(`timeout after ${timeoutMs} ms waiting for '${cond}' on '${c.name}': ${safeJson(clientStatus(c))}`)
    await sleep(10)
  }
}

function fragmentXml (doc, field) { return doc.getXmlFragment(field).toString() }

// ---------- typing (continuous edits with acknowledged-marker accounting) ----------
function cmdStartTyping (a) {
  const c = client(a)
  if (c.typing?.timer) throw new UserError('already typing')
  const field = a.field ?? 't'
  const prefix = String(a.prefix ?? 'k').replace(/[^A-Za-z0-9_-]/g, '') || 'k'
  const intervalMs = Math.max(1, Number(a.intervalMs ?? 20))
  const max = Math.min(Number(a.count ?? 1e6), 1e6)
  const t = { field, prefix, typed: 0, acked: new Set(), timer: null }
  c.typing = t
  t.timer = setInterval(() => {
    if (t.typed >= max || c.destroyed) { clearInterval(t.timer); t.timer = null; return }
    try { const text = c.doc.getText(field); text.insert(text.length, `~${prefix}:${t.typed}~`); t.typed++ } catch (e) { log('typing', e?.message) }
  }, intervalMs)
  return { field, prefix }
}

function typingResult (c) {
  const t = c.typing
  if (!t) throw new UserError('not typing')
  return { typed: t.typed, acked: [...t.acked].sort((x, y) => x - y), running: Boolean(t.timer), prefix: t.prefix, field: t.field }
}

// ---------- raw sockets ----------
const raws = new Map() // name -> {ws, frames: [], close: null, error}

function raw (a) {
  const name = need(a, 'socket')
  const r = raws.get(name)
  if (!r) throw new UserError(`no raw socket '${name}'`)
  return r
}

function cmdRawOpen (a) {
  const name = need(a, 'socket')
  if (raws.has(name) && !raws.get(name).close) throw new UserError(`raw socket '${name}' is open`)
  const url = need(a, 'url')
  const timeoutMs = Number(a.timeoutMs ?? 10000)
  return new Promise((resolve, reject) => {
    const r = { ws: null, frames: [], close: null, error: null, opened: false }
    let ws
    try { ws = new WebSocket(url, { handshakeTimeout: timeoutMs, maxPayload: 256 * 1024 * 1024, perMessageDeflate: false }) } catch (e) { reject(new UserError(String(e?.message ?? e))); return }
    r.ws = ws
    raws.set(name, r)
    ws.binaryType = 'nodebuffer'
    ws.on('message', (data, isBinary) => {
      const u8 = toU8(data)
      r.frames.push({ data: b64(u8), binary: isBinary })
      emit('rawMessage', { socket: name, length: u8.length })
    })
    ws.on('error', (e) => { r.error = String(e?.message ?? e); if (!r.opened) reject(new UserError(`rawOpen failed: ${r.error}`)) })
    ws.on('close', (code, reason) => {
      r.close = { code, reason: reason?.toString('utf8') ?? '' }
      emit('rawClose', { socket: name, ...r.close })
      if (!r.opened) reject(new UserError(`closed before open: ${code}`))
    })
    ws.on('open', () => { r.opened = true; resolve({ socket: name }) })
  })
}

function cmdRawSend (a) {
  const r = raw(a)
  let buf
  if (a.fill) buf = Buffer.alloc(Math.min(Number(a.fill.length ?? 0), 512 * 1024 * 1024), Number(a.fill.byte ?? 0))
  else buf = Buffer.from(String(a.data ?? ''), 'base64')
  if (a.prefix) buf = Buffer.concat([Buffer.from(String(a.prefix), 'base64'), buf])
  if (r.ws.readyState !== WebSocket.OPEN) throw new UserError(`raw socket not open (readyState ${r.ws.readyState}, close ${safeJson(r.close)})`)
  return new Promise((resolve) => {
    r.ws.send(buf, { binary: a.text !== true }, (err) => resolve({ sent: buf.length, error: err ? String(err.message ?? err) : null }))
  })
}

async function cmdRawWaitClose (a) {
  const r = raw(a)
  const timeoutMs = Math.min(Number(a.timeoutMs ?? 10000), 600000)
  const t0 = Date.now()
  while (!r.close) {
    if (Date.now() - t0 >= timeoutMs) throw new UserError(`raw socket not closed after ${timeoutMs} ms`)
    await sleep(10)
  }
  return { ...r.close, elapsedMs: Date.now() - t0 }
}

async function cmdRawWaitFrames (a) {
  const r = raw(a)
  const n = Number(a.count ?? 1)
  const timeoutMs = Math.min(Number(a.timeoutMs ?? 10000), 600000)
  const t0 = Date.now()
  while (r.frames.length < n) {
    if (Date.now() - t0 >= timeoutMs) throw new UserError(`only ${r.frames.length}/${n} frames after ${timeoutMs} ms (close ${safeJson(r.close)})`)
    await sleep(10)
  }
  return { frames: r.frames, close: r.close }
}

// ---------- commands ----------
const commands = {
  ping: () => ({ pong: true, node: process.version }),
  connect: cmdConnect,
  insertText: (a) => {
    const c = client(a)
    const text = c.doc.getText(a.field ?? 't')
    const index = a.index === undefined || a.index === null || a.index < 0 ? text.length : Math.min(a.index, text.length)
    text.insert(index, need(a, 'text'))
    return { length: text.length }
  },
  deleteText: (a) => {
    const c = client(a)
    const text = c.doc.getText(a.field ?? 't')
    text.delete(need(a, 'index', 'number'), need(a, 'length', 'number'))
    return { length: text.length }
  },
  appendParagraph: (a) => {
    const c = client(a)
    const fragment = c.doc.getXmlFragment(a.field ?? 'content')
    const value = need(a, 'text')
    c.doc.transact(() => {
      const p = new Y.XmlElement('paragraph')
      p.insert(0, [new Y.XmlText(value)])
      fragment.insert(fragment.length, [p])
    })
    return { length: fragment.length }
  },
  setMap: (a) => {
    const c = client(a)
    c.doc.getMap(a.field ?? 'm').set(need(a, 'key'), a.value ?? null)
    return {}
  },
  getMap: (a) => ({ value: client(a).doc.getMap(a.field ?? 'm').toJSON() }),
  getText: (a) => ({ text: client(a).doc.getText(a.field ?? 't').toString() }),
  getXml: (a) => ({ xml: fragmentXml(client(a).doc, a.field ?? 'content') }),
  stateVector: (a) => ({ stateVector: b64(Y.encodeStateVector(client(a).doc)) }),
  encodeState: (a) => ({ update: b64(Y.encodeStateAsUpdate(client(a).doc, a.stateVector ? fromB64(a.stateVector) : undefined)) }),
  applyUpdate: (a) => { Y.applyUpdate(client(a).doc, fromB64(need(a, 'update')), 'driver'); return {} },
  status: (a) => clientStatus(client(a)),
  waitFor: cmdWaitFor,
  setAwareness: (a) => {
    const p = client(a).provider
    if (!p.awareness) throw new UserError('awareness disabled for this client')
    p.awareness.setLocalState(a.state === undefined ? null : a.state)
    return {}
  },
  awarenessStates: (a) => {
    const p = client(a).provider
    if (!p.awareness) throw new UserError('awareness disabled for this client')
    return { states: Object.fromEntries([...p.awareness.getStates()].map(([id, s]) => [String(id), s])), clientID: p.awareness.clientID }
  },
  sendStateless: (a) => { client(a).provider.sendStateless(need(a, 'payload')); return {} },
  disconnect: (a) => { const c = client(a); c.sock.ws.disconnect(); return {} },
  reconnect: async (a) => { const c = client(a); c.sock.ws.shouldConnect = true; c.sock.ws.connect().catch((e) => log('reconnect', e?.message)); return {} },
  destroy: (a) => {
    const c = client(a)
    if (c.typing?.timer) { clearInterval(c.typing.timer); c.typing.timer = null }
    const final = clientStatus(c)
    c.provider.destroy()
    c.destroyed = true
    c.sock.clients.delete(c)
    clients.delete(c.name)
    if (!c.sock.clients.size) { try { c.sock.ws.destroy() } catch {} sockets.delete(c.sock.name) }
    return { final }
  },
  destroySocket: (a) => {
    const name = need(a, 'socket')
    const sock = sockets.get(name)
    if (!sock) throw new UserError(`no socket '${name}'`)
    for (const c of sock.clients) { c.destroyed = true; try { c.provider.destroy() } catch {} clients.delete(c.name) }
    sock.ws.destroy()
    sockets.delete(name)
    return {}
  },
  list: () => ({ clients: [...clients.keys()], sockets: [...sockets.keys()], raw: [...raws.keys()] }),
  startTyping: cmdStartTyping,
  stopTyping: (a) => { const c = client(a); if (c.typing?.timer) { clearInterval(c.typing.timer); c.typing.timer = null } return typingResult(c) },
  typingStatus: (a) => typingResult(client(a)),
  rawOpen: cmdRawOpen,
  rawSend: cmdRawSend,
  rawFrames: (a) => { const r = raw(a); const frames = r.frames; if (a.clear) r.frames = []; return { frames, close: r.close, error: r.error } },
  rawWaitFrames: cmdRawWaitFrames,
  rawWaitClose: cmdRawWaitClose,
  rawClose: (a) => {
    const r = raw(a)
    if (a.terminate) r.ws.terminate(); else r.ws.close(a.code ?? 1000, a.reason ?? '')
    return {}
  },
  // Encodes an awareness update with the real y-protocols encoder, for raw-socket tests.
  encodeAwareness: (a) => {
    const doc = new Y.Doc()
    if (a.clientID !== undefined) doc.clientID = Number(a.clientID)
    const aw = new awarenessProtocol.Awareness(doc)
    aw.setLocalState(a.state === undefined ? null : a.state)
    const u = awarenessProtocol.encodeAwarenessUpdate(aw, [doc.clientID])
    aw.destroy()
    return { update: b64(u), clientID: doc.clientID }
  },
  quit: () => { setTimeout(shutdown, 20); return {} }
}

let shuttingDown = false
function shutdown () {
  if (shuttingDown) return
  shuttingDown = true
  for (const c of clients.values()) { try { c.destroyed = true; c.provider.destroy() } catch {} }
  for (const s of sockets.values()) { try { s.ws.destroy() } catch {} }
  for (const r of raws.values()) { try { r.ws.terminate() } catch {} }
  setTimeout(() => process.exit(0), 100)
}

async function handle (line) {
  let req
  try { req = JSON.parse(line) } catch (e) { out({ id: null, ok: false, error: `invalid JSON: ${e.message}` }); return }
  const id = req?.id ?? null
  try {
    if (!req || typeof req !== 'object' || typeof req.cmd !== 'string') throw new UserError("request needs 'cmd'")
    const fn = Object.hasOwn(commands, req.cmd) ? commands[req.cmd] : null
    if (!fn) throw new UserError(`unknown command '${req.cmd}'`)
    const { id: _i, cmd: _c, ...args } = req
    const result = await fn(args)
    out({ ...(result ?? {}), id, ok: true })
  } catch (e) {
    if (!(e instanceof UserError)) log(`command ${req?.cmd} failed:`, e?.stack ?? String(e))
    out({ id, ok: false, error: String(e?.message ?? e) })
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', (line) => { if (line.trim()) handle(line) })
rl.on('close', shutdown)
emit('ready', { pid: process.pid, node: process.version })
