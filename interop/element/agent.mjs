#!/usr/bin/env node
// A Matrix user on Element's crypto (matrix-js-sdk with its Rust crypto), scripted over
// stdin/stdout: the Go tests drive a requester and a volunteer with it in a relayed
// case (bridges/matrix/element_relay_test.go).
//
//   node agent.mjs --homeserver URL --user @alice:localhost --password PW [--timeout-ms 30000]
//
// It logs in as a new device, cross-signs it like Element does, syncs, and prints
// {"ok":true,"ready":true,...}. Then every stdin line is a JSON command and gets one
// JSON line back, {"ok":true,...} or {"ok":false,"error":...}:
//
//   {"op":"dm","with":"@bot:hs"}                         → {"room"}   an encrypted DM
//   {"op":"invite"}                                       → {"room"}   the next invite, joined
//   {"op":"send","room":R,"body":B,"html":H,"reply_to":E} → {"event_id"}
//   {"op":"edit","room":R,"event":E,"body":B}             → {"event_id"}
//   {"op":"react","room":R,"event":E,"key":K}             → {"event_id"}
//   {"op":"redact","room":R,"event":E}                    → {"event_id"}
//   {"op":"image","room":R,"name":N,"data_b64":D}         → {"event_id"} encrypted file
//   {"op":"expect","room":R,"contains":S}                 → the first decrypted message from
//        someone else whose body contains S: {"event_id","body","formatted_body","content","encrypted"}
//   {"op":"expect_event","room":R,"type":T,"relates_to":E,"key":K,"replaces":E,"redacts":E}
//                                                         → {"event_id","content"}
//   {"op":"download","room":R,"event":E}                  → {"data_b64"} the decrypted file
//   {"op":"scan","room":R}                                → {"events":[…]} every timeline and
//        state event this client has for R, decrypted, as JSON
//   {"op":"rooms"}                                        → {"joined":[…]}
const debug = !!process.env.INTEROP_DEBUG;
for (const m of ["log", "info", "debug", "trace", "warn"]) {
    console[m] = debug || m === "warn" ? console.error : () => {};
}

import { parseArgs } from "node:util";
import readline from "node:readline";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const { values: opt } = parseArgs({
    options: {
        homeserver: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
        "timeout-ms": { type: "string", default: "30000" },
    },
});
const timeoutMs = Number(opt["timeout-ms"]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const RustCrypto = await import("@matrix-org/matrix-sdk-crypto-wasm");
logger.setLevel(debug ? "debug" : "warn", false);

let client;
const invites = [];
let wake = () => {};
const changed = () => {
    const w = wake;
    wake = () => {};
    w();
};

async function start() {
    const anon = sdk.createClient({ baseUrl: opt.homeserver });
    const login = await anon.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: opt.user },
        password: opt.password,
        initial_device_display_name: "Element agent",
    });
    client = sdk.createClient({ baseUrl: opt.homeserver, userId: login.user_id, deviceId: login.device_id, accessToken: login.access_token });
    await client.initRustCrypto({ useIndexedDB: false });
    if (!debug) new RustCrypto.Tracing(RustCrypto.LoggerLevel.Info).turnOn();
    await client.getCrypto().bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: async (makeRequest) => {
            try {
                return await makeRequest(null);
            } catch (e) {
                if (e?.httpStatus !== 401 || !e.data?.flows) throw e;
                return await makeRequest({
                    type: "m.login.password",
                    identifier: { type: "m.id.user", user: login.user_id },
                    password: opt.password,
                    session: e.data.session,
                });
            }
        },
    });
    client.on(sdk.RoomMemberEvent.Membership, async (ev, member) => {
        if (member.userId === client.getUserId() && member.membership === "invite" && !invites.some((i) => i.room === member.roomId)) {
            invites.push({ room: member.roomId, taken: false });
            changed();
        }
    });
    client.on(sdk.RoomEvent.Timeline, changed);
    client.on(sdk.MatrixEventEvent.Decrypted, changed);
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the first sync did not finish")), timeoutMs);
        client.on(sdk.ClientEvent.Sync, (state) => {
            if (state === "PREPARED" || state === "SYNCING") {
                clearTimeout(timer);
                resolve();
            }
        });
        client.startClient({ initialSyncLimit: 10 });
    });
    return { user: login.user_id, device: login.device_id };
}

// until waits for cond to return a value, re-checking whenever the client sees something.
async function until(cond, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await cond();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => {
            wake = r;
            setTimeout(r, 200);
        });
    }
}

function timeline(roomId) {
    return client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
}

function describe(ev) {
    return { event_id: ev.getId(), type: ev.getType(), sender: ev.getSender(), content: ev.getContent(), encrypted: ev.isEncrypted() };
}

const b64 = (buf) => Buffer.from(buf).toString("base64").replace(/=+$/, "");
const b64url = (buf) => Buffer.from(buf).toString("base64url");

// encryptAttachment is Matrix's attachment encryption (AES-CTR, SHA-256 of the cipher text).
function encryptAttachment(data) {
    const key = randomBytes(32);
    const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
    const c = createCipheriv("aes-256-ctr", key, iv);
    const ciphertext = Buffer.concat([c.update(data), c.final()]);
    return {
        ciphertext,
        info: {
            v: "v2",
            key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: b64url(key), ext: true },
            iv: b64(iv),
            hashes: { sha256: b64(createHash("sha256").update(ciphertext).digest()) },
        },
    };
}

function decryptAttachment(ciphertext, file) {
    const hash = b64(createHash("sha256").update(ciphertext).digest());
    if (hash !== file.hashes.sha256) throw new Error("the file's hash does not match");
    const d = createDecipheriv("aes-256-ctr", Buffer.from(file.key.k, "base64url"), Buffer.from(file.iv, "base64"));
    return Buffer.concat([d.update(ciphertext), d.final()]);
}

const ops = {
    async dm({ with: other }) {
        const { room_id } = await client.createRoom({
            preset: sdk.Preset.TrustedPrivateChat,
            visibility: sdk.Visibility.Private,
            is_direct: true,
            invite: [other],
            initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
        });
        await client.setAccountData(sdk.EventType.Direct, { [other]: [room_id] });
        await until(async () => client.getRoom(room_id) && (await client.getCrypto().isEncryptionEnabledInRoom(room_id)), "the DM to sync as encrypted");
        return { room: room_id };
    },
    async invite() {
        const inv = await until(() => invites.find((i) => !i.taken), "an invite");
        inv.taken = true;
        await client.joinRoom(inv.room);
        await until(() => client.getRoom(inv.room)?.getMyMembership() === "join", "the join");
        return { room: inv.room };
    },
    async send({ room, body, html, reply_to }) {
        const content = { msgtype: "m.text", body };
        if (html) Object.assign(content, { format: "org.matrix.custom.html", formatted_body: html });
        if (reply_to) content["m.relates_to"] = { "m.in_reply_to": { event_id: reply_to } };
        return { event_id: (await client.sendEvent(room, sdk.EventType.RoomMessage, content)).event_id };
    },
    async edit({ room, event, body }) {
        const content = {
            msgtype: "m.text",
            body: "* " + body,
            "m.new_content": { msgtype: "m.text", body },
            "m.relates_to": { rel_type: "m.replace", event_id: event },
        };
        return { event_id: (await client.sendEvent(room, sdk.EventType.RoomMessage, content)).event_id };
    },
    async react({ room, event, key }) {
        const content = { "m.relates_to": { rel_type: "m.annotation", event_id: event, key } };
        return { event_id: (await client.sendEvent(room, sdk.EventType.Reaction, content)).event_id };
    },
    async redact({ room, event }) {
        return { event_id: (await client.redactEvent(room, event)).event_id };
    },
    async image({ room, name, data_b64 }) {
        const data = Buffer.from(data_b64, "base64");
        const { ciphertext, info } = encryptAttachment(data);
        const { content_uri } = await client.uploadContent(ciphertext, { type: "application/octet-stream", includeFilename: false });
        const content = { msgtype: "m.image", body: name, file: { ...info, url: content_uri }, info: { mimetype: "image/png", size: data.length } };
        return { event_id: (await client.sendEvent(room, sdk.EventType.RoomMessage, content)).event_id };
    },
    async expect({ room, contains }) {
        const ev = await until(
            () => timeline(room).find((e) => e.getSender() !== client.getUserId() && !e.isBeingDecrypted() && !e.isDecryptionFailure() &&
                e.getType() === "m.room.message" && (e.getContent().body ?? "").includes(contains)),
            `a message containing ${JSON.stringify(contains)} in ${room}`,
        );
        const c = ev.getContent();
        return { ...describe(ev), body: c.body, formatted_body: c.formatted_body ?? "" };
    },
    async expect_event({ room, type, relates_to, key, replaces, redacts }) {
        const ev = await until(
            () => timeline(room).find((e) => {
                if (e.getSender() === client.getUserId() || e.isBeingDecrypted() || e.isDecryptionFailure()) return false;
                if (type === "m.room.redaction") return e.getType() === type && (e.event.redacts === redacts || e.getContent().redacts === redacts);
                if (e.getType() !== type) return false;
                const rel = e.getContent()["m.relates_to"] ?? {};
                if (relates_to && rel.event_id !== relates_to) return false;
                if (key && rel.key !== key) return false;
                if (replaces && !(rel.rel_type === "m.replace" && rel.event_id === replaces)) return false;
                return true;
            }) ?? (type === "m.room.redaction" && timeline(room).find((e) => e.getId() === redacts && e.isRedacted())),
            `a ${type} in ${room}`,
        );
        return describe(ev);
    },
    async download({ room, event }) {
        const ev = timeline(room).find((e) => e.getId() === event);
        if (!ev) throw new Error(`no event ${event}`);
        const file = ev.getContent().file;
        if (!file) throw new Error("the file is not encrypted");
        const res = await fetch(client.mxcUrlToHttp(file.url, undefined, undefined, undefined, false, true, false), {
            headers: { Authorization: `Bearer ${client.getAccessToken()}` },
        });
        if (!res.ok) throw new Error(`download: HTTP ${res.status}`);
        return { data_b64: decryptAttachment(Buffer.from(await res.arrayBuffer()), file).toString("base64") };
    },
    async scan({ room }) {
        const r = client.getRoom(room);
        const events = timeline(room).map((e) => JSON.stringify({ ...e.getEffectiveEvent(), unsigned: e.getUnsigned() }));
        for (const byKey of r?.currentState.events.values() ?? []) {
            for (const e of byKey.values()) events.push(JSON.stringify(e.getEffectiveEvent()));
        }
        return { events };
    },
    async rooms() {
        return { joined: client.getRooms().filter((r) => r.getMyMembership() === "join").map((r) => r.roomId) };
    },
};

try {
    out({ ok: true, ready: true, ...(await start()) });
} catch (e) {
    out({ ok: false, error: String(e?.stack ?? e) });
    process.exit(1);
}
const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
    let cmd;
    try {
        cmd = JSON.parse(line);
        const op = ops[cmd.op];
        if (!op) throw new Error(`unknown op ${cmd.op}`);
        out({ ok: true, ...(await op(cmd)) });
    } catch (e) {
        out({ ok: false, op: cmd?.op, error: String(e?.message ?? e) });
    }
}
client?.stopClient();
process.stdout.write("", () => process.exit(0));
