/**
 * The VFS inode lock: `inode_lock()` / `inode_unlock()` take `inode->i_rwsem` for write
 * (include/linux/fs.h, v6.9); `inode_lock_shared()` takes it for read.
 */
import type { Site } from "../engine/site.js";
import type { Task } from "../engine/task.js";
import { down_read, down_write, RwSemaphore, up_read, up_write } from "./locks.js";
import { selfTracked } from "../engine/track.js";

/** The part of struct inode the models use. */
export class Inode {
  readonly i_rwsem: RwSemaphore;
  constructor(readonly i_ino: number) {
    this.i_rwsem = new RwSemaphore("i_rwsem");
  }
}

export const inode_lock = (t: Task, inode: Inode, at: Site) => down_write(t, inode.i_rwsem, at);
export const inode_unlock = (t: Task, inode: Inode, at: Site) => up_write(t, inode.i_rwsem, at);
export const inode_lock_shared = (t: Task, inode: Inode, at: Site) => down_read(t, inode.i_rwsem, at);
export const inode_unlock_shared = (t: Task, inode: Inode, at: Site) => up_read(t, inode.i_rwsem, at);

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Inode);
