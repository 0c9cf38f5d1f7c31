#!/usr/bin/env node
// A requester on Element's crypto: matrix-js-sdk with its Rust crypto
// (@matrix-org/matrix-sdk-crypto-wasm), talking to Switchboard in an encrypted DM
// the way Element does. Used by bridges/matrix/element_interop_test.go; see
// docs/element-interop.md.
//
//   node requester.mjs --homeserver URL --user @alice:localhost --password PW \
//        --bot @switchboard:localhost [--strict] [--pause-for-restart] [--timeout-ms 30000]
//
// Every option can come from the environment instead: HOMESERVER_URL, USER_ID,
// PASSWORD, BOT_USER_ID, ISOLATION_MODE=strict, PAUSE_FOR_RESTART=1, TIMEOUT_MS.
// INTEROP_DEBUG=1 turns on the SDK's debug log (on stderr).
//
// stdout carries only JSON lines, one a step: {"step":…,"ok":true,"ms":…}. The last
// line is {"step":"done","ok":true} or, with exit code 1, {"step":…,"ok":false,"error":…}.
// Timings: ms is the step's duration, rtt_ms the time from sending a message to the
// bot's reply being decrypted here. Only the bot's messages are ever printed.
//
// --pause-for-restart: after the first answer, print {"step":"await-restart"} and wait
// for a line on stdin (the caller restarts the bot meanwhile), then check that both
// directions still decrypt: once on the existing Megolm session, once on a fresh one.

// The SDK logs through console.log/info/debug: send all of it to stderr before it
// is loaded, so that stdout stays JSON lines, and drop its debug chatter unless
// INTEROP_DEBUG is set (its child loggers force debug level on themselves).
const debug = !!process.env.INTEROP_DEBUG;
for (const m of ["log", "info", "debug", "trace", "warn"]) {
    console[m] = debug || m === "info" || m === "warn" ? console.error : () => {};
}

import { parseArgs } from "node:util";
import readline from "node:readline";

const { values: opt } = parseArgs({
    options: {
        homeserver: { type: "string", default: process.env.HOMESERVER_URL },
        user: { type: "string", default: process.env.USER_ID },
        password: { type: "string", default: process.env.PASSWORD },
        bot: { type: "string", default: process.env.BOT_USER_ID },
        strict: { type: "boolean", default: process.env.ISOLATION_MODE === "strict" },
        "pause-for-restart": { type: "boolean", default: process.env.PAUSE_FOR_RESTART === "1" },
        "timeout-ms": { type: "string", default: process.env.TIMEOUT_MS ?? "30000" },
    },
});
const mode = opt.strict ? "strict" : "default";
const timeoutMs = Number(opt["timeout-ms"]);
const t0 = performance.now();
let step = "start";

function emit(obj) {
    process.stdout.write(JSON.stringify({ step, mode, ...obj, t_ms: Math.round(performance.now() - t0) }) + "\n");
}

// A failure the script diagnosed itself: reported without a stack trace.
function interopError(message) {
    const err = new Error(message);
    err.interop = true;
    return err;
}

function fail(message) {
    throw interopError(message);
}

for (const k of ["homeserver", "user", "password", "bot"]) {
    if (!opt[k]) {
        emit({ ok: false, error: `missing --${k} (see the header of requester.mjs)` });
        process.exit(2);
    }
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { OnlySignedDevicesIsolationMode, EventShieldColour, EventShieldReason } = await import(
    "matrix-js-sdk/lib/crypto-api/index.js"
);
const RustCrypto = await import("@matrix-org/matrix-sdk-crypto-wasm");
logger.setLevel(debug ? "debug" : "warn", false);

let client;

async function main() {
    // 1. Log in as a new device, like a fresh Element session.
    step = "login";
    let t = performance.now();
    const anon = sdk.createClient({ baseUrl: opt.homeserver });
    const login = await anon.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: opt.user },
        password: opt.password,
        initial_device_display_name: `Element interop (${mode})`,
    });
    client = sdk.createClient({
        baseUrl: opt.homeserver,
        userId: login.user_id,
        deviceId: login.device_id,
        accessToken: login.access_token,
    });
    emit({ ok: true, ms: ms(t), device_id: login.device_id });

    // 2. Rust crypto with an in-memory store (Node has no IndexedDB).
    step = "init-crypto";
    t = performance.now();
    await client.initRustCrypto({ useIndexedDB: false });
    // initRustCrypto turns the Rust side's tracing on at debug level.
    if (!debug) new RustCrypto.Tracing(RustCrypto.LoggerLevel.Info).turnOn();
    const crypto = client.getCrypto();
    if (opt.strict) crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    emit({ ok: true, ms: ms(t), isolation: opt.strict ? "OnlySignedDevicesIsolationMode" : "AllDevicesIsolationMode" });

    // 3. Cross-signing, so this device is "verified by its owner" like a real Element user's.
    step = "cross-signing";
    t = performance.now();
    await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: async (makeRequest) => {
            const auth = {
                type: "m.login.password",
                identifier: { type: "m.id.user", user: login.user_id },
                password: opt.password,
            };
            try {
                return await makeRequest(null);
            } catch (e) {
                if (e?.httpStatus !== 401 || !e.data?.flows) throw e;
                return await makeRequest({ ...auth, session: e.data.session });
            }
        },
    });
    emit({ ok: true, ms: ms(t) });

    // 4. Sync, and see our own device come back from the server signed by our
    // self-signing key (the crypto store learns it from a /keys/query).
    step = "sync";
    t = performance.now();
    const watcher = new BotWatcher(client, opt.bot);
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(interopError("the first sync did not finish")), timeoutMs);
        client.on(sdk.ClientEvent.Sync, (state) => {
            if (state === "PREPARED" || state === "SYNCING") {
                clearTimeout(timer);
                resolve();
            }
        });
        client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
    });
    let own;
    await waitFor(async () => {
        await crypto.getUserDeviceInfo([login.user_id], true);
        own = await crypto.getDeviceVerificationStatus(login.user_id, login.device_id);
        return own?.signedByOwner;
    }, "our own device to be signed by its owner after bootstrapCrossSigning");
    emit({ ok: true, ms: ms(t), own_device_signed_by_owner: own.signedByOwner });

    // 5. An encrypted DM with the bot, as Element creates it.
    step = "create-dm";
    t = performance.now();
    const { room_id: roomId } = await client.createRoom({
        preset: sdk.Preset.TrustedPrivateChat,
        visibility: sdk.Visibility.Private,
        is_direct: true,
        invite: [opt.bot],
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await client.setAccountData(sdk.EventType.Direct, { [opt.bot]: [roomId] });
    await waitFor(async () => client.getRoom(roomId) && (await crypto.isEncryptionEnabledInRoom(roomId)), "the new room to sync as encrypted");
    watcher.roomId = roomId;
    emit({ ok: true, ms: ms(t), room_id: roomId, bot_membership: membership(roomId) });

    // 6. "hello" (usually while the bot is still only invited) → greeting and question 1.
    step = "hello";
    let sent = performance.now();
    const botMembershipAtSend = membership(roomId);
    await send(roomId, "hello");
    const greeting = await watcher.expect("not an emergency service", sent);
    const greetingMs = ms(sent);
    const trust = await checkTrust(crypto, greeting);
    const q1 = await watcher.expect("1 of 4", sent);
    emit({ ok: true, rtt_ms: greetingMs, q1_rtt_ms: ms(sent), bot_membership_at_send: botMembershipAtSend, ...trust, reply: greeting.getContent().body });

    // 7. Answer the first safety question → question 2.
    step = "answer-1";
    sent = performance.now();
    await send(roomId, "no");
    const q2 = await watcher.expect("2 of 4", sent);
    emit({ ok: true, rtt_ms: ms(sent), ...(await checkTrust(crypto, q2)), reply: q2.getContent().body });

    if (opt["pause-for-restart"]) {
        // 8. The caller restarts the bot; then both directions must still decrypt.
        step = "await-restart";
        emit({ ok: true });
        t = performance.now();
        await readLine(Math.max(timeoutMs, 60000));
        step = "after-restart";
        sent = performance.now();
        await send(roomId, "no");
        const q3 = await watcher.expect("3 of 4", sent);
        const trust3 = await checkTrust(crypto, q3);
        if (trust3.bot_device !== trust.bot_device) fail(`the bot's device changed across the restart: ${trust.bot_device} -> ${trust3.bot_device}`);
        emit({ ok: true, rtt_ms: ms(sent), restart_ms: Math.round(sent - t), ...trust3, reply: q3.getContent().body });

        // A fresh Megolm session: its key reaches the bot over the Olm session made
        // before the restart (or a new one), so the bot's stored Olm state is exercised.
        step = "new-megolm-session";
        await crypto.forceDiscardSession(roomId);
        sent = performance.now();
        await send(roomId, "no");
        const q4 = await watcher.expect("4 of 4", sent);
        emit({ ok: true, rtt_ms: ms(sent), ...(await checkTrust(crypto, q4)), reply: q4.getContent().body });
    } else {
        // 8. Only wait for the next question to be there (already checked above).
        step = "next-question";
        emit({ ok: true, have: "2 of 4" });
    }

    const failures = watcher.undecryptable();
    if (failures.length) fail(`bot events that never decrypted: ${JSON.stringify(failures)}`);
    step = "done";
    emit({ ok: true });
}

// BotWatcher collects the bot's events in the DM and waits for decrypted ones.
class BotWatcher {
    constructor(client, botId) {
        this.client = client;
        this.botId = botId;
        this.roomId = null;
        this.events = []; // {ev, seenAt}
        this.waiters = new Set();
        client.on(sdk.RoomEvent.Timeline, (ev, room, toStart) => {
            if (toStart || ev.getSender() !== botId || (this.roomId && ev.getRoomId() !== this.roomId)) return;
            if (ev.getType() !== "m.room.message" && ev.getType() !== "m.room.encrypted") return;
            this.events.push({ ev, seenAt: performance.now() });
            this.wake();
        });
        client.on(sdk.MatrixEventEvent.Decrypted, () => this.wake());
    }
    wake() {
        for (const w of this.waiters) w();
    }
    // expect resolves with the first bot event received after `since` whose decrypted
    // body contains substr. Bot messages must be encrypted.
    expect(substr, since) {
        return new Promise((resolve, reject) => {
            const check = () => {
                for (const { ev, seenAt } of this.events) {
                    if (seenAt < since || ev.isBeingDecrypted() || ev.isDecryptionFailure()) continue;
                    if (!ev.isEncrypted()) {
                        done();
                        return reject(interopError(`the bot sent a message in plaintext: ${ev.getId()}`));
                    }
                    if ((ev.getContent().body ?? "").includes(substr)) {
                        done();
                        return resolve(ev);
                    }
                }
            };
            const timer = setTimeout(() => {
                done();
                const pending = this.undecryptable();
                // The bot's own words are test data and say what it did instead.
                const got = this.events
                    .filter(({ ev, seenAt }) => seenAt >= since && !ev.isDecryptionFailure())
                    .map(({ ev }) => (ev.getContent().body ?? `<${ev.getType()}>`).slice(0, 100));
                reject(interopError(`no decrypted message from the bot containing ${JSON.stringify(substr)} within ${timeoutMs} ms` +
                    (pending.length ? `; undecryptable bot events: ${JSON.stringify(pending)}` : "") +
                    `; the bot's messages since: ${JSON.stringify(got)}`));
            }, timeoutMs);
            const done = () => {
                clearTimeout(timer);
                this.waiters.delete(check);
            };
            this.waiters.add(check);
            check();
        });
    }
    undecryptable(since = 0) {
        return this.events
            .filter(({ ev, seenAt }) => seenAt >= since && ev.isDecryptionFailure())
            .map(({ ev }) => ({ event_id: ev.getId(), reason: ev.decryptionFailureReason }));
    }
}

// checkTrust asserts that the bot's message decrypted with a key from a device its
// owner cross-signed: no shield in Element, signedByOwner in the device status.
async function checkTrust(crypto, ev) {
    const info = await crypto.getEncryptionInfoForEvent(ev);
    if (!info) fail(`no encryption info for the bot's event ${ev.getId()}`);
    const wire = ev.getWireContent();
    const devices = (await crypto.getUserDeviceInfo([opt.bot], true)).get(opt.bot) ?? new Map();
    let device = wire.device_id && devices.get(wire.device_id);
    if (!device) device = [...devices.values()].find((d) => d.getIdentityKey() === (wire.sender_key ?? ev.getSenderKey()));
    if (!device) fail(`cannot tell which of the bot's ${devices.size} devices sent ${ev.getId()}`);
    const status = await crypto.getDeviceVerificationStatus(opt.bot, device.deviceId);
    const out = {
        bot_device: device.deviceId,
        signed_by_owner: !!status?.signedByOwner,
        shield: EventShieldColour[info.shieldColour],
        shield_reason: info.shieldReason === null ? null : EventShieldReason[info.shieldReason],
    };
    if (!out.signed_by_owner) fail(`the bot's device ${device.deviceId} is not cross-signed by its owner (${JSON.stringify(out)})`);
    if (info.shieldColour === EventShieldColour.RED) fail(`Element would show a red shield on the bot's message (${JSON.stringify(out)})`);
    return out;
}

async function send(roomId, body) {
    await client.sendEvent(roomId, sdk.EventType.RoomMessage, { msgtype: sdk.MsgType.Text, body });
}

function membership(roomId) {
    return client.getRoom(roomId)?.getMember(opt.bot)?.membership ?? "unknown";
}

async function waitFor(cond, what) {
    const deadline = performance.now() + timeoutMs;
    while (!(await cond())) {
        if (performance.now() > deadline) fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

function readLine(limit) {
    return new Promise((resolve, reject) => {
        const rl = readline.createInterface({ input: process.stdin });
        const timer = setTimeout(() => {
            rl.close();
            reject(interopError(`no go-ahead on stdin within ${limit} ms`));
        }, limit);
        let settled = false;
        rl.once("line", () => {
            settled = true;
            clearTimeout(timer);
            rl.close();
            resolve();
        });
        rl.once("close", () => {
            clearTimeout(timer);
            if (!settled) reject(interopError("stdin closed before the go-ahead"));
        });
    });
}

function ms(since) {
    return Math.round(performance.now() - since);
}

let code = 0;
try {
    await main();
} catch (e) {
    code = 1;
    emit({ ok: false, error: e?.interop ? e.message : String(e?.stack ?? e) });
} finally {
    try {
        client?.stopClient();
    } catch {}
}
// The SDK keeps timers (key queries, retries) alive: leave once stdout is flushed.
process.stdout.write("", () => process.exit(code));
