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
  /** inode->i_rwsem, the lock inode_lock() takes. */
  readonly i_rwsem: RwSemaphore;
  constructor(
    /** inode->i_ino, for messages. */
    readonly i_ino: number,
  ) {
    this.i_rwsem = new RwSemaphore("i_rwsem");
    // Frozen: nothing here changes but through i_rwsem, so the state-caching search need not
    // rehash what holds an inode after every step (fingerprint.ts).
    Object.freeze(this);
  }
}

/** inode_lock(): down_write(&inode->i_rwsem), include/linux/fs.h v6.9. One step; may sleep. */
export const inode_lock = (t: Task, inode: Inode, at: Site) => down_write(t, inode.i_rwsem, at);
/** inode_unlock(): up_write(&inode->i_rwsem). One step. */
export const inode_unlock = (t: Task, inode: Inode, at: Site) => up_write(t, inode.i_rwsem, at);
/** inode_lock_shared(): down_read(&inode->i_rwsem). One step; may sleep. */
export const inode_lock_shared = (t: Task, inode: Inode, at: Site) => down_read(t, inode.i_rwsem, at);
/** inode_unlock_shared(): up_read(&inode->i_rwsem). One step. */
export const inode_unlock_shared = (t: Task, inode: Inode, at: Site) => up_read(t, inode.i_rwsem, at);

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Inode);
