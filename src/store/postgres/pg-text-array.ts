/** The type OID of `text`, as a binary array names its elements. */
const TEXT_OID = 25;

/**
 * A `text[]` parameter in PostgreSQL's binary array format, which the driver sends as is (a
 * Buffer parameter goes binary): each string is written once as its UTF-8 bytes. A string array
 * in text form is quoted and escaped element by element, a few copies of every document (half of
 * an import's time went to collecting that garbage), and the server parses the escapes back.
 *
 * Strings must already be storable (`toPgText`): the server refuses U+0000 in text either way.
 * The SQL casts the parameter to `text[]`, so the server reads it with the array's binary input.
 * `null` and `undefined` are both NULL, as the driver sends them in a plain array.
 */
export function textArrayParam(values: readonly (string | null | undefined)[]): Buffer {
  let size = 20; // dimensions, flags, element type, then the length and lower bound of one dimension
  let hasNull = 0;
  for (const value of values) {
    if (value == null) hasNull = 1;
    size += 4 + (value == null ? 0 : Buffer.byteLength(value, "utf8"));
  }
  const buffer = Buffer.allocUnsafe(size);
  let at = buffer.writeInt32BE(1, 0);
  at = buffer.writeInt32BE(hasNull, at);
  at = buffer.writeInt32BE(TEXT_OID, at);
  at = buffer.writeInt32BE(values.length, at);
  at = buffer.writeInt32BE(1, at);
  for (const value of values) {
    if (value == null) {
      at = buffer.writeInt32BE(-1, at);
      continue;
    }
    const length = buffer.write(value, at + 4, "utf8");
    buffer.writeInt32BE(length, at);
    at += 4 + length;
  }
  return buffer;
}
