/**
 * Spatial voice in the room: the library's voice mesh connects every pair of users; this view plays each remote
 * stream from a three.js PositionalAudio hanging on that user's head (so the voice comes from where they are and
 * turns with the listener's head), and shows a green ring above a head while its user speaks. The microphone is
 * asked for once; without one (refused, absent) the page still hears everyone. M mutes.
 */
import * as THREE from 'three';
import { query } from 'bitecs';
import type { World } from 'bitecs';
import { createVoice, Networked, ownerOf } from '../../src/index.ts';
import type { ClientAuthority, ClientAwareness, Voice } from '../../src/index.ts';
import type { EntityViews } from './entity-views.ts';
import type { RoomProtocol } from './protocol.ts';

/** Voices fade with distance like people in a room: full within 1 m, half at 2 m (the inverse model). */
const REF_DISTANCE_M = 1;
/** Height of the speaking ring above the head's centre, in metres. */
const RING_ABOVE_HEAD_M = 0.15;

/** The room's voice: the mesh, and what the page draws and plays for it. */
export interface VoiceView {
  readonly voice: Voice;
  /** Whether the microphone was granted ('pending' while the browser asks). */
  readonly microphone: 'pending' | 'on' | 'none';
  /** Moves each voice and speaking ring to its user's head; run after the entity views' update. */
  update(): void;
  /** The users this page plays: whether the voice hangs on their head, where it sounds from, whether they speak. */
  list(): Array<{ clientId: number; attached: boolean; position: [number, number, number]; speaking: boolean }>;
}

/** Starts voice for the page; `camera` carries the listener. */
export function createVoiceView(
  world: World,
  room: RoomProtocol,
  views: EntityViews,
  camera: THREE.Camera,
  authority: ClientAuthority,
  awareness: ClientAwareness,
): VoiceView {
  const listener = new THREE.AudioListener();
  camera.add(listener);
  // `?voicePeers=n` caps the mesh below the library's default (the tests' way to reach the bound).
  const maxPeers = Number(new URLSearchParams(location.search).get('voicePeers')) || undefined;
  const voice = createVoice(world, { authority, awareness, audioContext: listener.context, maxPeers });
  // Autoplay rules keep the context suspended until the user does something on the page.
  const resume = () => void listener.context.resume().catch(() => {});
  for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, resume);
  resume();

  const sounds = new Map<number, THREE.PositionalAudio>();
  const rings = new Map<number, THREE.Mesh>();
  const ringGeometry = new THREE.TorusGeometry(0.06, 0.012, 8, 24).rotateX(Math.PI / 2);
  const ringMaterial = new THREE.MeshBasicMaterial({ color: 0x7ee29a });
  voice.events.on('stream', (clientId, stream) => {
    sounds.get(clientId)?.disconnect();
    const sound = new THREE.PositionalAudio(listener);
    sound.setRefDistance(REF_DISTANCE_M);
    sound.setMediaStreamSource(stream);
    sounds.set(clientId, sound);
  });
  voice.events.on('closed', (clientId) => {
    const sound = sounds.get(clientId);
    sound?.removeFromParent();
    sound?.disconnect();
    sounds.delete(clientId);
    rings.get(clientId)?.removeFromParent();
    rings.delete(clientId);
  });

  let microphone: VoiceView['microphone'] = 'pending';
  void navigator.mediaDevices
    ?.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } })
    .then((stream) => {
      voice.setMicrophone(stream);
      microphone = 'on';
    })
    .catch(() => (microphone = 'none'));
  if (!navigator.mediaDevices) microphone = 'none';
  window.addEventListener('keydown', (e) => e.key.toLowerCase() === 'm' && voice.setMuted(!voice.muted));

  const headOf = (clientId: number): THREE.Object3D | null => {
    for (const eid of query(world, [Networked, room.poses.HeadPose]))
      if (ownerOf(world, eid) === clientId) return views.objectOf(eid);
    return null;
  };

  return {
    voice,
    get microphone() {
      return microphone;
    },
    update() {
      for (const [clientId, sound] of sounds) {
        const head = headOf(clientId);
        if (head && sound.parent !== head) head.add(sound);
        let ring = rings.get(clientId);
        if (!ring) rings.set(clientId, (ring = new THREE.Mesh(ringGeometry, ringMaterial)));
        if (head && ring.parent !== head) head.add(ring);
        ring.position.set(0, RING_ABOVE_HEAD_M, 0);
        ring.visible = voice.isSpeaking(clientId);
      }
    },
    list: () =>
      [...sounds].map(([clientId, sound]) => ({
        clientId,
        attached: sound.parent !== null && sound.parent === headOf(clientId),
        position: sound.getWorldPosition(new THREE.Vector3()).toArray() as [number, number, number],
        speaking: voice.isSpeaking(clientId),
      })),
  };
}
