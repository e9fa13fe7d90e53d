/// The one stylesheet and the one script, embedded in the executable: no CDN, no external fonts,
/// nothing a citizen's browser fetches from anywhere but this node. Served with a content hash in
/// the path so they can be cached forever.
enum Assets {
    static let styleVersion = "4"
    static let scriptVersion = "2"
    static var stylePath: String { "/assets/style-\(styleVersion).css" }
    static var scriptPath: String { "/assets/verify-\(scriptVersion).js" }

    /// Mobile first, system fonts (every phone has a CJK font), contrast ≥ 4.5:1 for text
    /// (#1a1a1a on white, white on #0b5394, #8a1c1c / #1e6b34 on their light tints).
    static let style = #"""
    :root { --ink: #1a1a1a; --muted: #4a4a4a; --brand: #0b5394; --ok: #1e6b34; --ok-bg: #e7f4ea; --bad: #8a1c1c; --bad-bg: #fbeaea; --warn: #7a4a00; --warn-bg: #fff4e0; --line: #c8c8c8; }
    * { box-sizing: border-box; }
    html { font-size: 100%; -webkit-text-size-adjust: 100%; }
    body { margin: 0; color: var(--ink); background: #f5f6f8; font-family: system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; line-height: 1.6; }
    header.site { background: var(--brand); color: #fff; padding: .75rem 1rem; }
    header.site a { color: #fff; text-decoration: none; font-weight: 600; font-size: 1.1rem; }
    main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
    footer.site { max-width: 46rem; margin: 0 auto; padding: 1rem; color: var(--muted); font-size: .85rem; }
    h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.15rem; margin: 1.25rem 0 .5rem; }
    section.card { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; }
    label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
    .hint { color: var(--muted); font-size: .9rem; margin: 0 0 .25rem; }
    input[type=text], input[type=tel], input[type=password], input[type=file] { width: 100%; font-size: 1.05rem; padding: .6rem; border: 2px solid #767676; border-radius: .35rem; background: #fff; }
    textarea { width: 100%; font-size: 1.05rem; padding: .6rem; border: 2px solid #767676; border-radius: .35rem; font-family: inherit; }
    fieldset { border: 1px solid var(--line); border-radius: .35rem; margin: .75rem 0; padding: .25rem .75rem .5rem; }
    legend { font-weight: 600; }
    label.choice { display: flex; align-items: center; gap: .5rem; font-weight: 600; min-height: 44px; margin: 0; }
    label.choice input { width: 1.25rem; height: 1.25rem; }
    a.button { display: inline-block; margin-top: .5rem; font-size: 1.05rem; padding: .65rem 1.5rem; background: var(--brand); color: #fff; border-radius: .35rem; text-decoration: none; min-height: 44px; }
    input[aria-invalid=true] { border-color: var(--bad); }
    .field-error { color: var(--bad); font-weight: 600; margin: .25rem 0 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    #form-joint-review td textarea { min-width: 18rem; } #form-joint-review td input { min-width: 6rem; }
    button { margin-top: 1rem; font-size: 1.05rem; padding: .65rem 1.5rem; background: var(--brand); color: #fff; border: 0; border-radius: .35rem; cursor: pointer; min-height: 44px; }
    button:hover { background: #083d6e; }
    a { color: var(--brand); }
    :focus-visible { outline: 3px solid #e8a400; outline-offset: 2px; }
    .verdict { border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; border: 2px solid; }
    .verdict.ok { background: var(--ok-bg); color: var(--ok); border-color: var(--ok); }
    .verdict.bad { background: var(--bad-bg); color: var(--bad); border-color: var(--bad); }
    .verdict.warn { background: var(--warn-bg); color: var(--warn); border-color: var(--warn); }
    .verdict p { margin: .25rem 0; color: var(--ink); }
    .verdict .big { font-size: 1.3rem; font-weight: 700; margin: 0; color: inherit; }
    dl.facts { display: grid; grid-template-columns: 1fr; gap: .15rem .75rem; margin: 0; }
    dl.facts dt { color: var(--muted); font-size: .9rem; }
    dl.facts dd { margin: 0 0 .5rem; word-break: break-all; }
    @media (min-width: 40rem) { dl.facts { grid-template-columns: 9rem 1fr; } dl.facts dd { margin: 0; } }
    ol.checks { padding-left: 1.25rem; }
    ol.checks li { margin: .4rem 0; }
    .where { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: .25rem; border: 1px solid var(--muted); color: var(--muted); margin-right: .35rem; }
    [data-result=pass] .result { color: var(--ok); font-weight: 600; }
    [data-result=fail] .result { color: var(--bad); font-weight: 600; }
    [data-result=skip] .result, [data-result=pending] .result { color: var(--muted); }
    table.items { width: 100%; border-collapse: collapse; }
    table.items th, table.items td { text-align: left; padding: .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    @media (max-width: 40rem) { table.items thead { display: none; } table.items tr { display: block; border-bottom: 2px solid var(--line); padding: .5rem 0; } table.items td { display: block; border: 0; padding: .15rem 0; } table.items td::before { content: attr(data-label) "："; color: var(--muted); } }
    .request-id { color: var(--muted); font-size: .8rem; }
    .skip-link { position: absolute; left: -999px; } .skip-link:focus { left: 1rem; top: .5rem; background: #fff; color: var(--brand); padding: .25rem .5rem; }
    """#

    /// The browser's own checks (WebCrypto: Ed25519 and SHA-256). Reads the evidence block the page
    /// embeds, marks each check in the list pass/fail, and says so when the browser cannot run them.
    /// RFC 9162 §2.1.3.2 for the inclusion proof; the tree head's signed bytes are rebuilt here from
    /// its fields (TreeHeadSignedData, protobuf), so the server's encoding is not taken on trust.
    static let script = #"""
    "use strict";
    (async function () {
      const block = document.getElementById("evidence");
      if (!block) return;
      const ev = JSON.parse(block.textContent);
      const mark = (id, state, text) => {
        const li = document.getElementById(id);
        if (!li) return;
        li.dataset.result = state;
        li.querySelector(".result").textContent = text;
      };
      const ids = ["check-treehead", "check-inclusion", "check-entry", "check-seal"];
      const summary = document.getElementById("browser-summary");
      if (!window.crypto || !crypto.subtle) {
        ids.forEach((id) => mark(id, "skip", "未运行：此浏览器不提供 WebCrypto（需通过 https 打开本页）"));
        if (summary) { summary.dataset.result = "skip"; summary.textContent = "你的浏览器未能自行核验，请以服务器核验结果为准。"; }
        return;
      }
      const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const concat = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let i = 0; for (const p of parts) { out.set(p, i); i += p.length; } return out; };
      const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
      const sha256 = async (data) => new Uint8Array(await crypto.subtle.digest("SHA-256", data));
      const utf8 = (s) => new TextEncoder().encode(s);
      // Protobuf, as CertificateRules' ProtobufWriter writes it: empty strings and zero integers omitted.
      const varint = (value) => { let n = BigInt(value); if (n < 0n) n += 1n << 64n; const out = []; do { let b = Number(n & 0x7fn); n >>= 7n; if (n > 0n) b |= 0x80; out.push(b); } while (n > 0n); return out; };
      const lengthDelimited = (field, data) => data.length ? [...varint((field << 3) | 2), ...varint(data.length), ...data] : [];
      const integer = (field, value) => BigInt(value) === 0n ? [] : [...varint(field << 3), ...varint(value)];
      const message = (field, data) => [...varint((field << 3) | 2), ...varint(data.length), ...data];
      const readFields = (data) => { const fields = {}; let i = 0; const read = () => { let shift = 0n, n = 0n, b; do { b = data[i++]; n |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80); return n; };
        while (i < data.length) { const key = Number(read()); const field = key >> 3, type = key & 7;
          if (type === 0) { fields[field] = read(); } else if (type === 2) { const len = Number(read()); (fields[field] = fields[field] || []).push(data.slice(i, i + len)); i += len; } else { throw new Error("wire type " + type); } }
        return fields; };
      const text = (b) => new TextDecoder().decode(b);
      const ed25519 = async (publicKey, signature, purpose, data) => {
        const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
        return crypto.subtle.verify({ name: "Ed25519" }, key, signature, concat(utf8(purpose), new Uint8Array([0]), data));
      };
      let allPassed = true;
      let sealLeftToServer = false;
      const fail = (id, why) => { allPassed = false; mark(id, "fail", why); };
      try {
        const publicKey = bytes(ev.publicKey);
        const root = bytes(ev.rootHash);
        // 1. The tree head's seal.
        const headBytes = new Uint8Array([...lengthDelimited(1, utf8(ev.logID)), ...integer(2, ev.treeSize), ...lengthDelimited(3, root),
          ...message(4, [...integer(1, ev.timestampSeconds), ...integer(2, ev.timestampNanos)])]);
        if (ev.treeHeadKeyID !== ev.keyID) fail("check-treehead", "未通过：树头签名所用密钥与颁发机关密钥不符");
        else if (await ed25519(publicKey, bytes(ev.treeHeadSignature), "OneSeal tree head v1", headBytes)) mark("check-treehead", "pass", "通过：树头由颁发机关密钥 " + ev.keyID + " 签名（共 " + ev.treeSize + " 条记录）");
        else fail("check-treehead", "未通过：树头签名无效");
        // 2. The inclusion proof (RFC 9162 §2.1.3.2).
        const entry = bytes(ev.entryBytes);
        let r = await sha256(concat(new Uint8Array([0]), entry));
        let fn = Number(ev.leafIndex), sn = Number(ev.treeSize) - 1, ok = fn <= sn;
        for (const p64 of ev.auditPath) {
          const p = bytes(p64);
          if (!ok || sn === 0) { ok = false; break; }
          if ((fn & 1) === 1 || fn === sn) {
            r = await sha256(concat(new Uint8Array([1]), p, r));
            if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
          } else {
            r = await sha256(concat(new Uint8Array([1]), r, p));
          }
          fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
        }
        if (ok && sn === 0 && equal(r, root)) mark("check-inclusion", "pass", "通过：该记录位于日志第 " + (Number(ev.leafIndex) + 1) + " 条，审计路径 " + ev.auditPath.length + " 步可推出树根");
        else fail("check-inclusion", "未通过：包含证明推不出已签名的树根");
        // 3. The logged entry is this licence with the seal in the QR link.
        const fields = readFields(entry);
        const loggedID = fields[2] ? text(fields[2][0]) : "";
        const loggedSignature = fields[4] ? fields[4][0] : new Uint8Array();
        if (Number(fields[1] || 0n) === 1 && loggedID === ev.identifier && equal(loggedSignature, bytes(ev.qrSignature))) mark("check-entry", "pass", "通过：日志记录的证照标识与签章值和二维码一致");
        else fail("check-entry", "未通过：日志记录与二维码中的证照标识或签章值不一致");
        // 4. The seal over the content, when the content may be sent to browsers.
        if (ev.sealedContent) {
          const content = bytes(ev.sealedContent);
          const contentHash = await sha256(content);
          const loggedHash = fields[3] ? fields[3][0] : new Uint8Array();
          const shown = readFields(content);
          const sameAsShown = ["1", "3", "4", "5", "8"].every((f) => { const el = document.querySelector('[data-sealed-field="' + f + '"]'); return !el || (shown[f] && text(shown[f][0]) === el.textContent.trim()); });
          if (!equal(contentHash, loggedHash)) fail("check-seal", "未通过：证照内容与日志记录的摘要不一致");
          else if (!(await ed25519(publicKey, bytes(ev.qrSignature), "OneSeal licence v1", content))) fail("check-seal", "未通过：签章不能验证证照内容");
          else if (!sameAsShown) fail("check-seal", "未通过：页面显示的内容与签章覆盖的内容不一致");
          else mark("check-seal", "pass", "通过：签章覆盖本页所示证照内容，内容摘要与日志记录一致");
        } else {
          mark("check-seal", "skip", "未在浏览器运行：持证人为自然人，其完整身份证号码不发送到浏览器；签章已由服务器核验");
          sealLeftToServer = true;
        }
      } catch (error) {
        ids.forEach((id) => { const li = document.getElementById(id); if (li && li.dataset.result === "pending") fail(id, "未能完成：" + error); });
        allPassed = false;
      }
      if (summary) {
        summary.dataset.result = allPassed ? "pass" : "fail";
        summary.textContent = !allPassed ? "你的浏览器核验未通过：请勿相信此证照，并向颁发机关核实。"
          : sealLeftToServer ? "你的浏览器已独立核验树头签名、日志包含证明和日志记录，结果与服务器一致；证照内容签章仅由服务器核验。"
          : "你的浏览器已独立完成核验，结果与服务器一致。";
      }
      document.body.dataset.browserChecks = allPassed ? "pass" : "fail";
    })();
    """#
}
