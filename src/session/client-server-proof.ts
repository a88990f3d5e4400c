/**
 * The client's check of the server's identity during one handshake: a fresh nonce goes in the Hello, the server's
 * Challenge must show the expected key (when the application gave one) and a valid proof over the transcript, and
 * the Welcome must name the key the Challenge proved. The client then signs the same transcript with its own key.
 */
import type { ChallengeBody, WelcomeBody } from '../protocol/handshake.ts';
import { bytesEqual, type KeyPair, toHex } from './identity.ts';
import { createNonce, type HandshakeTranscript, signClientProof, verifyServerProof } from './identity-proof.ts';

/** What answering a Challenge gives: the client's signature, or why the server is refused. */
export type ChallengeAnswer = { signature: Uint8Array } | { refusal: string };

/** Per-connection state of the server's identity proof. */
export class ClientServerProof {
  /** The server key proven in this connection's Challenge, or null before it. */
  provenServerKey: Uint8Array | null = null;
  private nonce: Uint8Array | null = null;
  private answered = false;

  constructor(
    private readonly keyPair: KeyPair,
    private readonly expectedServerKey: Uint8Array | undefined,
  ) {}

  /** Starts a handshake on a new connection: forgets the last proof and returns the Hello's fresh nonce. */
  begin(): Uint8Array {
    this.nonce = createNonce();
    this.provenServerKey = null;
    this.answered = false;
    return this.nonce;
  }

  /** True once this connection's Challenge was answered (a repeat is ignored). */
  get challengeAnswered(): boolean {
    return this.answered;
  }

  /** Checks the server's Challenge and signs the transcript; a refusal means another (or an unproven) server. */
  answer(c: ChallengeBody): ChallengeAnswer {
    this.answered = true;
    const expected = this.expectedServerKey;
    if (expected && !bytesEqual(expected, c.serverPublicKey))
      return {
        refusal: `the server's key ${toHex(c.serverPublicKey)} is not the expected ${toHex(expected)}: another server answered`,
      };
    const t: HandshakeTranscript = {
      sessionId: c.sessionId,
      serverPublicKey: c.serverPublicKey,
      clientPublicKey: this.keyPair.publicKey,
      serverNonce: c.nonce,
    };
    if (this.nonce) t.clientNonce = this.nonce;
    if (!c.serverProof || !verifyServerProof(t, c.serverProof))
      return { refusal: `the server did not prove it holds the key ${toHex(c.serverPublicKey)}` };
    this.provenServerKey = c.serverPublicKey;
    return { signature: signClientProof(t, this.keyPair.secretKey) };
  }

  /** Why this Welcome cannot be accepted (unproven or another key than the Challenge's), or null. */
  refuseWelcome(welcome: WelcomeBody): string | null {
    const proven = this.provenServerKey;
    if (proven === null && this.expectedServerKey) return 'the server welcomed this client without proving its key';
    if (proven !== null && !(welcome.serverPublicKey && bytesEqual(proven, welcome.serverPublicKey)))
      return 'the Welcome names another server key than the Challenge';
    return null;
  }
}
