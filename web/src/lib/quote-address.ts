/**
 * The trader's address on the quote chain (the API's `eth_address` field): where an RTC
 * seller is paid, and where an RTC buyer locks from and is refunded to. EVM addresses
 * are checked with viem (a mixed-case address must carry a valid EIP-55 checksum, so a
 * typo is caught before any money moves); Ergo addresses by their base58 shape.
 */

import { isAddress } from "viem/utils";

const ERGO_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{30,128}$/;

export type AddressCheck = { ok: true; address: string } | { ok: false; words: string };

export function checkQuoteAddress(raw: string, chain: string, currency: string): AddressCheck {
  const address = raw.trim();
  if (address === "") {
    return { ok: false, words: `Enter your ${currency} address.` };
  }
  if (chain === "evm") {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
      return {
        ok: false,
        words: `Your ${currency} address must be 0x followed by 40 hexadecimal characters.`,
      };
    }
    if (!isAddress(address, { strict: true })) {
      return {
        ok: false,
        words: `This ${currency} address has a wrong checksum: check it for a typo, or write it in lower case.`,
      };
    }
    return { ok: true, address };
  }
  if (chain === "ergo" && !ERGO_ADDRESS.test(address)) {
    return { ok: false, words: "Your Ergo address is not a valid base58 Ergo address." };
  }
  return { ok: true, address };
}
