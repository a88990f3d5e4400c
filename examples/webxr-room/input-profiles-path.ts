/** URL path of the WebXR input profiles on the room's origin: the server serves them, the page loads from it. */
export const INPUT_PROFILES_PATH = '/input-profiles';
