/**
 * Seeded building blocks of the fuzz suite: a small deterministic PRNG, hostile values of every
 * kind (strings, ids, numbers, query values) and the mutations applied to a valid JSON body.
 * The same seed gives the same values, so a failing run can be replayed exactly.
 */

/** A seeded pseudo-random source (mulberry32): fast, 32-bit state, good enough to pick mutations. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty array");
    return item;
  }
}

/**
 * JSON text spliced into a body as it is: what JSON.stringify cannot write (1e400, a document
 * nested thousands of levels deep without recursing, a lone surrogate escape).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Serialises a value like JSON.stringify, splicing RawJson nodes in verbatim. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : toJsonText(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const parts: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${toJsonText(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A JSON array nested `depth` levels deep (as text, so building it never recurses). */
export function deepArray(depth: number): RawJson {
  return new RawJson(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
}

/** A JSON object nested `depth` levels deep under the key "a". */
export function deepObject(depth: number): RawJson {
  return new RawJson(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
}

/** The user id the fuzz puts only under `__proto__` keys: no stored document has it as its user id. */
export const INJECTED_USER_ID = "injected_user";

/** Strings that have broken servers: empty, long, non-ASCII, control characters, path tricks, syntax. */
export function hostileString(rng: Rng): string {
  const length = rng.pick([1, 2, 64, 255, 256, 300, 511, 512, 513, 1024, 4096]);
  switch (rng.int(24)) {
    case 0:
      return "";
    case 1:
      return "x".repeat(length);
    case 2:
      return "😀".repeat(Math.ceil(length / 2));
    case 3:
      return "é".repeat(length);
    case 4:
      return "\u0000";
    case 5:
      return "nul\u0000id";
    case 6:
      return "nul\ufffdid";
    case 7:
      return ".";
    case 8:
      return "..";
    case 9:
      return "../../etc/passwd";
    case 10:
      return "%2E%2E%2F";
    case 11:
      return "a/b\\c";
    case 12:
      return "\ud800";
    case 13:
      return "__proto__";
    case 14:
      return "constructor";
    case 15:
      return "' OR 1=1 --";
    case 16:
      return '"; DROP TABLE conversations; --';
    case 17:
      return "%_*?[]\\";
    case 18:
      return " \t\r\n ";
    case 19:
      return "\u202e\u200b\ufeff";
    case 20:
      return "ab".repeat(250);
    case 21:
      return `${"w".repeat(30)} `.repeat(16).trim();
    case 22:
      return "🏳️‍🌈".repeat(Math.ceil(length / 6));
    default:
      return `s${rng.int(1_000_000)}`;
  }
}

/** Numbers at the edges: zero, negative, fractional, past 2^53, the largest doubles, and (as raw text) non-finite ones. */
export function hostileNumber(rng: Rng): number | RawJson {
  return rng.pick<number | RawJson>([
    0,
    -0,
    -1,
    1,
    1.5,
    101,
    1001,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e305,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    new RawJson("1e400"),
    new RawJson("-1e400"),
    new RawJson("1e-400"),
    new RawJson("123456789012345678901234567890"),
    new RawJson("-0.0e0"),
  ]);
}

/** A value of any JSON type (or raw JSON text), for wrong-type mutations. */
export function hostileValue(rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0:
      return null;
    case 1:
      return true;
    case 2:
      return hostileNumber(rng);
    case 3:
      return hostileString(rng);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return [hostileString(rng), hostileNumber(rng)];
    case 7:
      return { [hostileString(rng)]: hostileString(rng) };
    case 8:
      return rng.chance(0.5) ? deepArray(rng.pick([50, 300, 600])) : deepObject(rng.pick([50, 300, 600]));
    case 9:
      return rng.chance(0.8) ? deepArray(rng.pick([1000, 6000])) : deepObject(6000);
    case 10:
      return new RawJson(`{"__proto__":{"user_id":"${INJECTED_USER_ID}","polluted":true}}`);
    default:
      return Array.from({ length: rng.pick([1, 51, 200]) }, () => `v${rng.int(100)}`);
  }
}

/** Values for a query parameter: wrong types, edges of numeric ranges, non-finite numbers, long text. */
export function hostileQueryValue(rng: Rng): string {
  return rng.pick([
    "",
    "0",
    "-1",
    "1",
    "1.5",
    "30",
    "50",
    "51",
    "100",
    "101",
    "1000",
    "1001",
    "9007199254740993",
    "1e308",
    "1e400",
    "-1e400",
    "Infinity",
    "-Infinity",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "0x10",
    " 5 ",
    hostileString(rng),
  ]);
}

/** Cursors that are not ours: garbage, valid base64 of the wrong JSON, ours with hostile values. */
export function bogusCursor(rng: Rng): string {
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === "string" ? value : toJsonText(value)).toString("base64url");
  return rng.pick([
    "",
    "x",
    "%%%",
    "null",
    b64("null"),
    b64([]),
    b64([1e308, "a"]),
    b64(new RawJson('[1e400,"a"]')),
    b64([Number.MAX_SAFE_INTEGER, "\u0000"]),
    b64(["topics", -1]),
    b64(["topics", 1e21]),
    b64(["topics", 2 ** 53 + 2]),
    b64({ offset: 1 }),
    b64([0, "x".repeat(600)]),
    b64(new RawJson('[0,"a","extra"]')),
    b64(deepArray(3000)),
    "A".repeat(rng.pick([255, 256, 2048, 2049])),
    hostileString(rng),
  ]);
}

/** Every node of a JSON value, by path (the root is []). */
function pathsOf(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (out.length > 400 || value instanceof RawJson) return out;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...prefix, i], out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  }
  return out;
}

/** A deep copy of a JSON value that keeps RawJson nodes as they are. */
function copy<T>(value: T): T {
  if (value instanceof RawJson || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => copy(v)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, { value: copy(v), enumerable: true, configurable: true, writable: true });
  }
  return out as T;
}

/** The node at a path. */
function nodeAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

/** Sets (or, with `undefined`, deletes) the node at a path; the root cannot be deleted. */
function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return root;
}

/** How a JSON body was broken, for the failure report. */
export interface MutatedBody {
  text: string;
  mutation: string;
}

/**
 * One mutation of a valid JSON body: a node replaced by a hostile value, deleted, or given unknown
 * or `__proto__` keys; or the text itself truncated or replaced. Sometimes the body is left valid.
 */
export function mutateJson(rng: Rng, valid: unknown): MutatedBody {
  const roll = rng.int(20);
  if (roll === 0) return { text: toJsonText(valid), mutation: "none" };
  if (roll === 1) {
    const text = toJsonText(valid);
    return { text: text.slice(0, rng.int(Math.max(1, text.length))), mutation: "truncated" };
  }
  if (roll === 2) return { text: toJsonText(hostileValue(rng)), mutation: "replaced root" };
  if (roll === 3) {
    return {
      text: rng.pick(["", "{", "nul\u0000", "{'a':1}", "NaN", "[1,]", '{"a":1}}', "\ufeff{}"]),
      mutation: "not JSON",
    };
  }
  const doc = copy(valid);
  const paths = pathsOf(doc);
  const path = rng.pick(paths);
  const where = path.join(".") || "(root)";
  if (roll <= 9) {
    return { text: toJsonText(setAt(doc, path, hostileValue(rng))), mutation: `wrong value at ${where}` };
  }
  if (roll <= 12 && path.length > 0) {
    return { text: toJsonText(setAt(doc, path, undefined)), mutation: `deleted ${where}` };
  }
  if (roll <= 14) {
    // An edge value of the node's own type: numbers past every limit (1e400), strings past every length.
    const numbers = paths.filter((p) => typeof nodeAt(doc, p) === "number");
    const strings = paths.filter((p) => typeof nodeAt(doc, p) === "string");
    const numeric = numbers.length > 0 && (strings.length === 0 || rng.chance(0.5));
    const typed = numeric ? rng.pick(numbers) : strings.length > 0 ? rng.pick(strings) : path;
    const value = numeric
      ? hostileNumber(rng)
      : rng.chance(0.2)
        ? "v".repeat(rng.pick([2800, 5000]))
        : hostileString(rng);
    return {
      text: toJsonText(setAt(doc, typed, value)),
      mutation: `edge value at ${typed.join(".") || "(root)"}`,
    };
  }
  // Keys: unknown, __proto__ (an own key, as JSON.parse makes it), constructor.
  const objectPaths = paths.filter((p) => {
    const node = nodeAt(doc, p);
    return node !== null && typeof node === "object" && !Array.isArray(node);
  });
  // Keys go on objects only (an array body with no object in it gets an object in its place).
  if (objectPaths.length === 0) return { text: toJsonText({ unknown_key: 1 }), mutation: "object for array" };
  const objectPath = rng.pick(objectPaths);
  const node = nodeAt(doc, objectPath);
  const key = rng.pick(["__proto__", "constructor", "prototype", "unknown_key", hostileString(rng)]);
  // Under `__proto__`, values a filter reads: a parser that sets the prototype would index them.
  const value =
    key === "__proto__" && rng.chance(0.5)
      ? { user_id: INJECTED_USER_ID, agent_id: "injected_agent" }
      : hostileValue(rng);
  if (node !== null && typeof node === "object") {
    Object.defineProperty(node, key, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return {
    text: toJsonText(doc),
    mutation: `key ${JSON.stringify(key.slice(0, 40))} at ${objectPath.join(".") || "(root)"}`,
  };
}
