import { BadRequestException } from '@nestjs/common';
import { InvalidIpAddressError, parseIpAddress, ParsedIp } from './ip-address';

/**
 * Parses an address given by a client; a malformed, zero-padded, CIDR or oversized one is a 400
 * problem whose detail says what is wrong (without echoing over-long input).
 */
export function parseClientAddress(input: string): ParsedIp {
  try {
    return parseIpAddress(input);
  } catch (error) {
    if (error instanceof InvalidIpAddressError) throw new BadRequestException(error.message);
    throw error;
  }
}
