// IP addresses and CIDRs: strict parsing, canonical text (RFC 5952), containment.

export interface IpAddress {
  version: 4 | 6
  /** 4 or 16 bytes. */
  bytes: Uint8Array
}

/** The longest canonical SourceIp the renderer can emit: a full IPv6 address with /128 (43 characters). */
export const LONGEST_SOURCE_IP = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128'

function parseV4(text: string): Uint8Array | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  const bytes = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? ''
    // No leading zeros: "010" would be octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null
    bytes[i] = Number(part)
  }
  return bytes
}

function parseV6(text: string): Uint8Array | null {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (half: string): number[] | null => {
    if (half === '') return []
    const out: number[] = []
    const items = half.split(':')
    for (let i = 0; i < items.length; i++) {
      const item = items[i] ?? ''
      if (item.includes('.')) {
        // An embedded IPv4 address may only be the last element of the whole address.
        if (i !== items.length - 1) return null
        const v4 = parseV4(item)
        if (!v4) return null
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(item)) return null
        out.push(Number.parseInt(item, 16))
      }
    }
    return out
  }
  const head = groups(halves[0] ?? '')
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : []
  if (!head || !tail) return null
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return null
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  const bytes = new Uint8Array(16)
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8
    bytes[i * 2 + 1] = g & 0xff
  })
  return bytes
}

/**
 * Parses an IPv4 or IPv6 address (no zone, no brackets). An IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.1`, what a dual-stack socket reports) is returned as the IPv4 address it is.
 */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const bytes = parseV6(text)
    if (!bytes) return null
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
    return mapped ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes }
  }
  const bytes = parseV4(text)
  return bytes ? { version: 4, bytes } : null
}

/** Canonical text: dotted quad, or RFC 5952 (lowercase, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.')
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0))
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

/** `203.0.113.7` → `203.0.113.7/32`, `2001:db8::1` → `2001:db8::1/128`; null when not an IP address. */
export function hostCidr(text: string): string | null {
  const ip = parseIp(text)
  if (!ip) return null
  return `${formatIp(ip)}/${ip.version === 4 ? 32 : 128}`
}

/** True when `cidr` (an address, or address/bits) contains `ip`. False for anything unparsable. */
export function cidrContains(cidr: string, ip: IpAddress): boolean {
  const [addressText, bitsText, extra] = cidr.split('/')
  if (extra !== undefined || addressText === undefined) return false
  const network = parseIp(addressText)
  if (!network || network.version !== ip.version) return false
  const max = ip.version === 4 ? 32 : 128
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return false
  const bits = bitsText === undefined ? max : Number(bitsText)
  if (bits > max) return false
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3
    const mask = 0x80 >> (i & 7)
    if (((network.bytes[byte] ?? 0) & mask) !== ((ip.bytes[byte] ?? 0) & mask)) return false
  }
  return true
}
