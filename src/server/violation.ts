import { CloseCode } from '../protocol/close-codes';
import type { WireErrorCode } from '../protocol/wire-errors';

/** Why frames from the client broke the protocol: the wire code and the close code to end the link with. */
export interface Violation {
  code: Extract<WireErrorCode, 'protocol_error' | 'too_large' | 'rate_limited'>;
  closeCode: CloseCode;
  message: string;
}

export const violation = (code: Violation['code'], message: string): Violation => ({
  code,
  message,
  closeCode: code === 'too_large' ? CloseCode.TooLarge : CloseCode.ProtocolError,
});
