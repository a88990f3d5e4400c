/**
 * The few ECS operations replication needs, by component index. `plugin.ts` implements it with bitecs, which
 * keeps everything under `src/replication` free of bitecs.
 */
export interface WorldAdapter {
  createEntity(): number;
  destroyEntity(eid: number): void;
  addComponent(eid: number, c: number): void;
  removeComponent(eid: number, c: number): void;
  hasComponent(eid: number, c: number): boolean;
}
