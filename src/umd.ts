/**
 * The UMD entry: `<script src="wirefall.umd.min.js">` exposes a global `Wirefall`.
 * @example
 * <script src="/wirefall.umd.min.js"></script>
 * <script>const client = Wirefall.connect('/wirefall'); client.subscribe('said', console.log);</script>
 */
export { connect, probe, WirefallError, CloseCode, PROTOCOL_VERSION, describeAttempt, describeReason, logClient } from './index';
// The UMD bundle is the whole client for a <script> tag: sharing included (`Wirefall.share()`).
export { share } from './share/index';
