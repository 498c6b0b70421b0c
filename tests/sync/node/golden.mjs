#!/usr/bin/env node
// Golden vectors for our lib0 codec (apps/sync/mdreader_sync/lib0.py, protocol.py), produced with the REAL
// encoders: lib0 0.2.120, y-protocols 1.0.7, yjs 13.6.33, @hocuspocus/common, and frames captured from the
// real @hocuspocus/provider 2.15.3 / 3.4.4 / 4.8.0 talking to an in-process fake WebSocket (no network).
//
//   node tests/sync/node/golden.mjs            writes tests/sync/golden/lib0_vectors.json
//   node tests/sync/node/golden.mjs --check    exits 1 when the committed file differs from a fresh run
//
// Every frame carries `fields`: what the real lib0 decoder reads from it, which the Python tests compare
// with what our Decoder/parse_frame reads. Output is deterministic (fixed client IDs, no timestamps).
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import { writeAuthenticated, writePermissionDenied, writeAuthentication } from '@hocuspocus/common'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const OUT = path.resolve(here, '../golden/lib0_vectors.json')
const hex = (u8) => Buffer.from(u8).toString('hex')
const enc = (fn) => { const e = encoding.createEncoder(); fn(e); return encoding.toUint8Array(e) }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const pkgVersion = (name) => {
  const file = path.join(here, 'node_modules', name, 'package.json')
  return JSON.parse(fs.readFileSync(file, 'utf8')).version
}

// ---------- primitives ----------
const varUintValues = [0, 1, 2, 63, 64, 127, 128, 129, 255, 256, 300, 16383, 16384, 2097151, 2097152,
  2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42 + 7, 2 ** 49, 2 ** 53 - 1]
const varUint = varUintValues.map((value) => ({ value, hex: hex(enc((e) => encoding.writeVarUint(e, value))) }))

const strings = ['', 'a', 'probe-doc', 'dök-ü', 'Zoë', '👍', '👍🏽 thumbs', '日本語のドキュメント', 'doc\u0000session-1',
  'x'.repeat(127), 'ü'.repeat(64), 'y'.repeat(200), '𝒳'.repeat(40), 'mixed ✓ ö 👍 a\tb\nc',
  '123e4567-e89b-12d3-a456-426614174000']
const varString = strings.map((value) => ({ value, utf8Length: Buffer.byteLength(value, 'utf8'), hex: hex(enc((e) => encoding.writeVarString(e, value))) }))

const arrays = [[], [0], [0xff], Array.from({ length: 127 }, (_, i) => i), Array.from({ length: 128 }, (_, i) => 255 - i),
  Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)]
const varUint8Array = arrays.map((a) => ({ valueHex: hex(Uint8Array.from(a)), hex: hex(enc((e) => encoding.writeVarUint8Array(e, Uint8Array.from(a)))) }))

// ---------- the real lib0 decoding of a frame (the expectation for our parser) ----------
function decodeAwareness (update) {
  const d = decoding.createDecoder(update)
  const n = decoding.readVarUint(d)
  const entries = []
  for (let i = 0; i < n; i++) {
    const clientID = decoding.readVarUint(d)
    const clock = decoding.readVarUint(d)
    const state = decoding.readVarString(d)
    entries.push({ clientID, clock, stateJson: state, state: JSON.parse(state) })
  }
  return entries
}

// The states a fresh y-protocols Awareness (local state null) holds after applying these updates in order.
// (y-protocols ignores a clock-0 state of an unknown client: the clock must be newer than 0.)
function applyToFresh (updates) {
  const doc = new Y.Doc()
  doc.clientID = 1
  const aw = new awarenessProtocol.Awareness(doc)
  aw.setLocalState(null)
  for (const u of updates) awarenessProtocol.applyAwarenessUpdate(aw, u, 'golden')
  const states = Object.fromEntries([...aw.getStates()].map(([id, s]) => [String(id), s]))
  aw.destroy()
  return states
}

function decodeFrame (u8) {
  if (u8.length === 1) return { bare: true, type: u8[0] }
  const d = decoding.createDecoder(u8)
  const f = { document: decoding.readVarString(d), type: decoding.readVarUint(d) }
  switch (f.type) {
    case 0: case 4: {
      f.step = decoding.readVarUint(d)
      const data = decoding.readVarUint8Array(d)
      f.data = hex(data)
      if (f.step === 0) f.stateVector = Object.fromEntries([...Y.decodeStateVector(data)].map(([k, v]) => [String(k), v]))
      break
    }
    case 1: { const u = decoding.readVarUint8Array(d); f.update = hex(u); f.entries = decodeAwareness(u); f.statesAfterApply = applyToFresh([u]); break }
    case 2: {
      f.authType = decoding.readVarUint(d)
      if (f.authType === 0) {
        f.token = decoding.hasContent(d) ? decoding.readVarString(d) : null
        f.providerVersion = decoding.hasContent(d) ? decoding.readVarString(d) : null
      } else f.text = decoding.readVarString(d) // PermissionDenied reason / Authenticated scope
      break
    }
    case 3: break
    case 5: case 6: f.payload = decoding.readVarString(d); break
    case 7: f.reason = decoding.hasContent(d) ? decoding.readVarString(d) : null; break
    case 8: f.value = decoding.readVarUint(d); break
    default: throw new Error(`unexpected type ${f.type}`)
  }
  if (decoding.hasContent(d)) throw new Error(`trailing bytes in ${hex(u8)}`)
  return f
}

const frames = []
const awarenessSequences = []
const addFrame = (name, source, u8, note) => {
  const entry = { name, source, hex: hex(u8), fields: decodeFrame(u8) }
  if (note) entry.note = note
  frames.push(entry)
}

// ---------- server-side frames, from the real encoders ----------
const DOC = 'probe-doc'
const envelope = (e, doc, type) => { encoding.writeVarString(e, doc); encoding.writeVarUint(e, type) }

const serverDoc = new Y.Doc()
serverDoc.clientID = 42
serverDoc.getText('t').insert(0, 'Zoë ✓ dök-ü')
serverDoc.getMap('m').set('k', 'ö')
serverDoc.getText('t').delete(0, 1)
{
  const p = new Y.XmlElement('paragraph')
  p.insert(0, [new Y.XmlText('TipTap paragraph 👍')])
  serverDoc.getXmlFragment('content').insert(0, [p])
}
const emptyDoc = new Y.Doc()
emptyDoc.clientID = 7
const clientDoc = new Y.Doc()
clientDoc.clientID = 300000 // a 3-byte varUint client id
clientDoc.getText('t').insert(0, 'client edit ✓')
let liveUpdate = null
serverDoc.once('update', (u) => { liveUpdate = u })
serverDoc.getText('t').insert(3, ' 日本')

for (const [name, doc, scope] of [['authenticated-read-write', DOC, 'read-write'], ['authenticated-readonly', DOC, 'readonly'], ['authenticated-non-ascii-doc', 'dök-ü 👍', 'read-write']]) {
  addFrame(name, 'server: @hocuspocus/common writeAuthenticated', enc((e) => { envelope(e, doc, 2); writeAuthenticated(e, scope) }))
}
addFrame('permission-denied', 'server: @hocuspocus/common writePermissionDenied', enc((e) => { envelope(e, DOC, 2); writePermissionDenied(e, 'permission-denied') }))
addFrame('permission-denied-custom-reason', 'server: @hocuspocus/common writePermissionDenied', enc((e) => { envelope(e, DOC, 2); writePermissionDenied(e, 'token-expired: läuft ab') }))
addFrame('auth-token', 'client: @hocuspocus/common writeAuthentication', enc((e) => { envelope(e, DOC, 2); writeAuthentication(e, 'secret') }))
addFrame('auth-token-empty', 'client: @hocuspocus/common writeAuthentication', enc((e) => { envelope(e, DOC, 2); writeAuthentication(e, '') }))
addFrame('auth-token-with-version', 'client: writeAuthentication + writeVarString(version), as provider v4', enc((e) => { envelope(e, DOC, 2); writeAuthentication(e, 'eyJhbGciOiJIUzI1NiJ9.e30.sig'); encoding.writeVarString(e, '4.8.0') }))
addFrame('sync-step1-empty-doc', 'server: y-protocols writeSyncStep1', enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep1(e, emptyDoc) }))
addFrame('sync-step1', 'server: y-protocols writeSyncStep1', enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep1(e, serverDoc) }))
addFrame('sync-step2-nothing-missing', 'server: y-protocols writeSyncStep2', enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep2(e, emptyDoc, Y.encodeStateVector(emptyDoc)) }))
addFrame('sync-step2', 'server: y-protocols writeSyncStep2', enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep2(e, serverDoc, Y.encodeStateVector(clientDoc)) }))
addFrame('sync-update', 'server: y-protocols writeUpdate', enc((e) => { envelope(e, DOC, 0); syncProtocol.writeUpdate(e, liveUpdate) }))
addFrame('sync-update-client-300000', 'y-protocols writeUpdate', enc((e) => { envelope(e, 'dök-ü 👍', 0); syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(clientDoc)) }))
addFrame('sync-reply-step1', 'server↔server: type 4 + y-protocols writeSyncStep1', enc((e) => { envelope(e, DOC, 4); syncProtocol.writeSyncStep1(e, serverDoc) }))
addFrame('sync-status-applied', 'server: writeVarUint(8) writeVarUint(1)', enc((e) => { envelope(e, DOC, 8); encoding.writeVarUint(e, 1) }))
addFrame('sync-status-rejected', 'server: writeVarUint(8) writeVarUint(0)', enc((e) => { envelope(e, DOC, 8); encoding.writeVarUint(e, 0) }))
addFrame('stateless', 'writeVarUint(5) writeVarString', enc((e) => { envelope(e, DOC, 5); encoding.writeVarString(e, '{"msg":"hé 👍"}') }))
addFrame('stateless-empty', 'writeVarUint(5) writeVarString', enc((e) => { envelope(e, DOC, 5); encoding.writeVarString(e, '') }))
addFrame('broadcast-stateless', 'writeVarUint(6) writeVarString', enc((e) => { envelope(e, DOC, 6); encoding.writeVarString(e, 'relay ✓') }))
addFrame('close-provider-initiated', 'server v3+: writeVarUint(7) writeVarString(reason)', enc((e) => { envelope(e, DOC, 7); encoding.writeVarString(e, 'provider_initiated') }))
addFrame('close-reset-connection', 'server v3+: writeVarUint(7) writeVarString(reason)', enc((e) => { envelope(e, DOC, 7); encoding.writeVarString(e, 'Reset Connection') }))
addFrame('close-from-client', 'client: writeVarUint(7), no payload', enc((e) => { envelope(e, DOC, 7) }))
addFrame('query-awareness', 'writeVarUint(3), no payload', enc((e) => { envelope(e, DOC, 3) }))

// awareness: two clients with non-ASCII states, then a removal (state "null")
{
  const a1Doc = new Y.Doc()
  a1Doc.clientID = 7
  const a1 = new awarenessProtocol.Awareness(a1Doc) // clock 0: {}, then 1
  a1.setLocalState({ user: { name: 'Zoë 👍', color: '#ff0' }, cursor: { anchor: 3, head: 5 } })
  const a2Doc = new Y.Doc()
  a2Doc.clientID = 300000
  const a2 = new awarenessProtocol.Awareness(a2Doc)
  a2.setLocalState({ user: { name: '日本 ✓' } })
  a2.setLocalState({ user: { name: '日本 ✓', typing: true } })
  awarenessProtocol.applyAwarenessUpdate(a1, awarenessProtocol.encodeAwarenessUpdate(a2, [300000]), 'test')
  const both = awarenessProtocol.encodeAwarenessUpdate(a1, [7, 300000])
  addFrame('awareness-two-clients', 'y-protocols encodeAwarenessUpdate', enc((e) => { envelope(e, DOC, 1); encoding.writeVarUint8Array(e, both) }))
  addFrame('awareness-empty-update', 'zero entries (keepalive idea of the spec)', enc((e) => { envelope(e, DOC, 1); encoding.writeVarUint8Array(e, enc((x) => encoding.writeVarUint(x, 0))) }))
  awarenessProtocol.removeAwarenessStates(a1, [300000], 'test')
  a2.setLocalState(null)
  const removal = awarenessProtocol.encodeAwarenessUpdate(a2, [300000])
  addFrame('awareness-removal', 'y-protocols encodeAwarenessUpdate after setLocalState(null)', enc((e) => { envelope(e, DOC, 1); encoding.writeVarUint8Array(e, removal) }))
  awarenessSequences.push({ frames: ['awareness-two-clients', 'awareness-removal'], states: applyToFresh([both, removal]) })
  a1.destroy(); a2.destroy()
}
addFrame('pong-bare', 'v4 provider: bare Pong, no document name', Uint8Array.from([10]), 'not a framed message: parse_frame cannot read it; compare with protocol.PONG_FRAME first')
addFrame('ping-bare', 'v4: bare Ping, no document name', Uint8Array.from([9]), 'not a framed message')

// ---------- frames captured from the real providers (fake in-process WebSocket) ----------
class FakeWebSocket extends EventTarget {
  static instances = []
  constructor (url) {
    super()
    this.url = url
    this.readyState = 0
    this.binaryType = 'blob'
    this.sent = []
    FakeWebSocket.instances.push(this)
    setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')) }, 0)
  }

  send (data) { this.sent.push(new Uint8Array(data instanceof ArrayBuffer ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))) }
  close (code = 1000, reason = '') {
    if (this.readyState === 3) return
    this.readyState = 3
    const ev = new Event('close'); ev.code = code; ev.reason = reason
    setTimeout(() => this.dispatchEvent(ev), 0)
  }

  receive (u8) { const ev = new Event('message'); ev.data = u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength); this.dispatchEvent(ev) }
}

const captured = {}
for (const [version, pkg] of [['v2', 'provider-v2'], ['v3', 'provider-v3'], ['v4', 'provider-v4']]) {
  const { HocuspocusProvider, HocuspocusProviderWebsocket } = await import(pkg)
  FakeWebSocket.instances = []
  const doc = new Y.Doc()
  doc.clientID = { v2: 2002, v3: 3003, v4: 4004 }[version]
  const socket = new HocuspocusProviderWebsocket({ url: 'ws://fake.invalid', WebSocketPolyfill: FakeWebSocket, quiet: true })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name: DOC, document: doc, token: 'secret', quiet: true, broadcast: false })
  if (typeof provider.attach === 'function' && !provider.isAttached) provider.attach()
  for (let i = 0; i < 100 && !FakeWebSocket.instances.length; i++) await sleep(5)
  const ws = FakeWebSocket.instances[0]
  await sleep(30) // open -> Auth, Step1, awareness
  ws.receive(enc((e) => { envelope(e, DOC, 2); writeAuthenticated(e, 'read-write') }))
  ws.receive(enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep1(e, serverDoc) })) // -> client Step2
  ws.receive(enc((e) => { envelope(e, DOC, 0); syncProtocol.writeSyncStep2(e, serverDoc, Y.encodeStateVector(doc)) }))
  await sleep(10)
  doc.getText('t').insert(0, `typed by ${version}: dök-ü ✓`) // -> Update
  provider.setAwarenessField('user', { name: 'Zoë 👍' }) // -> awareness
  provider.sendStateless('hello ✓')
  if (version === 'v4') ws.receive(Uint8Array.from([9])) // -> bare Pong
  await sleep(10)
  provider.destroy() // -> CLOSE
  await sleep(20)
  try { socket.destroy() } catch {}
  const list = ws.sent.map((u8) => ({ hex: hex(u8), fields: decodeFrame(u8) }))
  captured[version] = list.length
  list.forEach((f, i) => {
    const kind = f.fields.bare ? `bare-${f.fields.type}` : { 0: ['sync-step1', 'sync-step2', 'sync-update'][f.fields.step], 1: 'awareness', 2: 'auth', 5: 'stateless', 7: 'close' }[f.fields.type] ?? `type-${f.fields.type}`
    addFrame(`provider-${version}-${String(i).padStart(2, '0')}-${kind}`, `captured: @hocuspocus/provider ${pkgVersion(pkg)}`, Buffer.from(f.hex, 'hex'))
  })
}

// ---------- decode-error cases (what lib0 itself rejects) ----------
const invalid = [
  { name: 'empty', hex: '' },
  { name: 'varString length without bytes', hex: '05616263' },
  { name: 'unterminated varUint', hex: '80' },
  { name: 'unterminated varUint type', hex: '0161ff' },
  { name: 'garbage ff*5 (4401 in the spec)', hex: 'ffffffffff' },
  { name: 'huge string length', hex: 'ffffffffffffffffff7f' },
  { name: 'name without type', hex: '0961626364656667686a' }
].map((x) => {
  let error = null
  try { const d = decoding.createDecoder(Buffer.from(x.hex, 'hex')); decoding.readVarString(d); decoding.readVarUint(d) } catch (e) { error = e.message }
  return { ...x, lib0Error: error }
})

const result = {
  generator: 'tests/sync/node/golden.mjs',
  versions: {
    lib0: pkgVersion('lib0'), yjs: pkgVersion('yjs'), 'y-protocols': pkgVersion('y-protocols'), '@hocuspocus/common': pkgVersion('@hocuspocus/common'),
    'provider-v2': pkgVersion('provider-v2'), 'provider-v3': pkgVersion('provider-v3'), 'provider-v4': pkgVersion('provider-v4')
  },
  capturedFrames: captured,
  varUint,
  varString,
  varUint8Array,
  frames,
  awarenessSequences,
  invalidEnvelopes: invalid
}
const text = JSON.stringify(result, null, 1) + '\n'
if (process.argv.includes('--check')) {
  const old = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : ''
  if (old !== text) { process.stderr.write(`${OUT} is out of date: run node tests/sync/node/golden.mjs\n`); process.exit(1) }
  process.stderr.write('golden vectors up to date\n')
} else {
  fs.mkdirSync(path.dirname(OUT), { recursive: true })
  fs.writeFileSync(OUT, text)
  process.stderr.write(`wrote ${OUT}: ${varUint.length} varUint, ${varString.length} varString, ${varUint8Array.length} varUint8Array, ${frames.length} frames (captured ${JSON.stringify(captured)})\n`)
}
process.exit(0)
