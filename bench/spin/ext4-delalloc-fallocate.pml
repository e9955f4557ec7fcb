/*
 * ext4-delalloc-fallocate in Promela: a step-for-step copy of racelab's scenario
 * (src/scenarios/ext4-delalloc-fallocate/threads.ts), made to compare racelab with SPIN
 * (bench/spin.ts, `npm run bench:spin`).
 *
 *   spin -DBLOCKS=2 -DRECHECK_ES -a ext4-delalloc-fallocate.pml   # --fix recheck-es --param blocks=2
 *   spin -DBLOCKS=2 -a ext4-delalloc-fallocate.pml                # --fix baseline   --param blocks=2
 *   gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000
 *
 * Only the `default` variant (racers "mkwrite-fallocate", folio lock and inode lock taken) is
 * modeled: per logical block L one ext4_page_mkwrite() and one ext4_fallocate() (2*BLOCKS threads),
 * plus the writeback+evict thread that runs after them.
 *
 * Correspondence with racelab:
 * - each racelab step (one `yield` of a Site, or one `yield*` of a lock primitive) is one d_step
 *   below; the code racelab runs after that yield up to the next one (including the `found:` path,
 *   map_query_blocks() and the choice of the next step) is the body of the d_step;
 * - each thread is a `do` loop over its steps, `pc` naming the pending step (the racelab Site,
 *   written in the comment of each option); the last step breaks out of the loop and ends the thread;
 * - a step that waits (down_read/down_write of an rw_semaphore, folio_lock, afterAll) has its
 *   racelab canProceed() as the d_step's guard: the thread is not enabled before;
 * - racelab's findings are assertions at the same step: the invariant in
 *   ext4_es_insert_delayed_block(), the WARNs of ext4_da_update_reserve_space() and
 *   ext4_da_release_space(), the `i_reserved_data_blocks (%u) not cleared!` of ext4_destroy_inode(),
 *   and the lockdep reports of locks.ts (recursive acquire, bad unlock balance); a racelab deadlock
 *   finding is SPIN's invalid end state. racelab lets the thread go on after a warning or an
 *   invariant (and so does pan -c0); it stops after a BUG;
 * - locals that racelab's generator drops are reset to 0 when dead, so SPIN does not tell apart
 *   states that differ only in a value no later step reads.
 */

#ifndef BLOCKS
#define BLOCKS 1
#endif

/* ---- state (state.ts) ------------------------------------------------------------------------ */

/* extent_status.ts: EXTENT_STATUS_* bits; 0 = no entry */
#define ES_WRITTEN   1
#define ES_UNWRITTEN 2
#define ES_DELAYED   4
#define ES_HOLE      8
#define es_is_hole(s)    (((s) & ES_HOLE) != 0)
#define es_is_delayed(s) (((s) & ES_DELAYED) != 0)
#define es_is_written(s) (((s) & ES_WRITTEN) != 0)
#define es_is_delonly(s) (((s) & ES_DELAYED) != 0 && ((s) & ES_UNWRITTEN) == 0)

/* ext4_extents.ts: DiskState */
#define DISK_HOLE      0
#define DISK_UNWRITTEN 1
#define DISK_WRITTEN   2

/* buffer_head.ts: BH_* bits */
#define BH_MAPPED    1
#define BH_NEW       2
#define BH_DELAY     4
#define BH_UNWRITTEN 8
#define BH_DIRTY     16

byte es[BLOCKS];          /* ExtentStatusTree, one entry per block */
byte disk[BLOCKS];        /* Ext4ExtentTree */
byte bh[BLOCKS];          /* BufferHead bits */
byte folio_owner[BLOCKS]; /* Folio.owner: 0 free, else _pid + 1 */
short i_reserved_data_blocks;

/* RwSemaphore: writer (0 or _pid + 1) and readers (a bit per racing thread, _pid < 8) */
byte i_data_sem_w;      byte i_data_sem_r;
byte invalidate_lock_w; byte invalidate_lock_r;
byte i_rwsem_w;         byte i_rwsem_r;

/* racing threads finished (engine/sync.ts afterAll: every other thread done) */
byte done;

/* ---- lock primitives (src/linux/locks.ts, folio.ts) -------------------------------------------- */

#define ME  (_pid + 1)
#define BIT (1 << _pid)
/* RwSemaphore.canProceed(t, SHARED) / (t, EXCLUSIVE): held by t itself lets the recursion be reported */
#define can_read(S)  (S##_w == ME || (S##_r & BIT) != 0 || S##_w == 0)
#define can_write(S) (S##_w == ME || (S##_r & BIT) != 0 || (S##_w == 0 && S##_r == 0))
/* down_read(): lockdep "possible recursive locking" (bug) when held for write, warning when for read */
#define down_read(S)  assert(S##_w != ME && (S##_r & BIT) == 0); S##_r = S##_r | BIT
/* up_read(): lockdep "bad unlock balance" when not a reader */
#define up_read(S)    assert((S##_r & BIT) != 0); S##_r = S##_r & ~BIT
/* down_write(): lockdep "possible recursive locking" when t holds it at all */
#define down_write(S) assert(S##_w != ME && (S##_r & BIT) == 0); S##_w = ME
/* up_write(): lockdep "bad unlock balance" when t is not the writer */
#define up_write(S)   assert(S##_w == ME); S##_w = 0

/* ext4_da_update_reserve_space(t, s, used) (threads.ts): WARN when more is used than reserved */
#define ext4_da_update_reserve_space(used)                                          \
    assert(used <= i_reserved_data_blocks); /* warning: ... used %d with only %d reserved */ \
    if                                                                              \
    :: used > i_reserved_data_blocks -> i_reserved_data_blocks = 0                  \
    :: else -> i_reserved_data_blocks = i_reserved_data_blocks - used               \
    fi

/* ---- ext4_page_mkwrite() -> block_page_mkwrite() -> ext4_da_map_blocks() ----------------------- */

/* pc values: the pending racelab step (sites.ts) */
#define MK_INVALIDATE_LOCK   1  /* MKWRITE.invalidateLock   ext4_page_mkwrite: filemap_invalidate_lock_shared() */
#define MK_FOLIO_LOCK        2  /* MKWRITE.folioLock        block_page_mkwrite: folio_lock(folio) */
#define MK_WRITE_BEGIN       3  /* MKWRITE.writeBegin       __block_write_begin_int: buffer_mapped(bh)? else get_block */
#define DA_LOOKUP            4  /* DA.lookup                ext4_da_map_blocks: find extent in es tree (no i_data_sem) */
#define DA_DOWN_READ         5  /* DA.downRead              ext4_da_map_blocks: down_read(i_data_sem) */
#define DA_QUERY             6  /* DA.query                 ext4_map_query_blocks: look up the on-disk extent tree */
#define DA_UP_READ           7  /* DA.upRead                ext4_da_map_blocks: up_read(i_data_sem) */
#define DA_ADD_DELAYED       8  /* DA.addDelayed            ext4_da_map_blocks: add_delayed: down_write(i_data_sem) */
#define DA_RECHECK           9  /* DA.recheck               ext4_da_map_blocks (0ea6560abb3b): look up the es tree again */
#define DA_RECHECK_QUERY    10  /* DA.recheckQuery          ext4_map_query_blocks under i_data_sem (write) */
#define DA_RECHECK_UP_WRITE 11  /* DA.recheckUpWrite        ext4_da_map_blocks: up_write(i_data_sem); goto found */
#define DA_UP_WRITE_MAPPED  12  /* DA.upWrite               up_write(i_data_sem); return the on-disk mapping */
#define DA_RESERVE          13  /* DA.reserve               ext4_da_reserve_space: reserve one more block */
#define DA_INSERT_DELAYED   14  /* DA.insertDelayed         ext4_es_insert_delayed_block: insert a delayed extent */
#define DA_UP_WRITE         15  /* DA.upWrite               ext4_da_map_blocks: up_write(i_data_sem) */
#define DA_SET_DELAY        16  /* DA.setDelay              ext4_da_map_blocks: map_bh(invalid_block); set_buffer_new/delay */
#define DA_MAP_BH           17  /* DA.mapBh                 ext4_da_get_block_prep: map_bh(bh, sb, map.m_pblk) */
#define MK_COMMIT           18  /* MKWRITE.commit           block_page_mkwrite: __block_commit_write(); folio_mark_dirty() */
#define MK_INVALIDATE_UNLOCK 19 /* MKWRITE.invalidateUnlock ext4_page_mkwrite: filemap_invalidate_unlock_shared() */
#define MK_FAULT_UNLOCK     20  /* MKWRITE.faultUnlock      fault_dirty_shared_page: folio_mark_dirty(); folio_unlock() */

/*
 * found(t, s, L, es) then block_write_begin()'s `if (m.retval > 0) yield DA.mapBh`: a delonly
 * entry maps the buffer delayed (retval 0: next step the commit); any other entry means the block
 * is allocated (retval 1, unwritten unless written: next step map_bh).
 */
#define found(e)                                                   \
    if                                                             \
    :: es_is_delonly(e) ->                                         \
        bh[L] = bh[L] | BH_MAPPED | BH_NEW | BH_DELAY;             \
        pc = MK_COMMIT                                             \
    :: else ->                                                     \
        unw = !es_is_written(e);                                   \
        pc = DA_MAP_BH                                             \
    fi

/*
 * map_query_blocks(t, s, L) (threads.ts): ext4_ext_map_blocks(flags 0), caching the result; a
 * hole is cached unless a delayed extent covers the block. Sets `mapped` (the DaMap is non-null)
 * and `unw`.
 */
#define map_query_blocks()                                                       \
    if                                                                           \
    :: disk[L] == DISK_HOLE ->                                                   \
        if                                                                       \
        :: !es_is_delayed(es[L]) -> es[L] = ES_HOLE                              \
        :: else -> skip                                                          \
        fi;                                                                      \
        mapped = 0                                                               \
    :: else ->                                                                   \
        if                                                                       \
        :: disk[L] == DISK_WRITTEN -> es[L] = ES_WRITTEN                         \
        :: else -> es[L] = ES_UNWRITTEN                                          \
        fi;                                                                      \
        mapped = 1;                                                              \
        unw = (disk[L] == DISK_UNWRITTEN)                                        \
    fi

#define L _pid

/* threads mkwrite[L]: _pid = L */
active [BLOCKS] proctype ext4_page_mkwrite()
{
    byte pc = MK_INVALIDATE_LOCK;
    byte e;      /* `es` / `again`: the es entry looked up */
    bit mapped;  /* map_query_blocks() returned a mapping (non-null) */
    bit unw;     /* DaMap.unwritten */

    do
    /* ext4_page_mkwrite: filemap_invalidate_lock_shared() = down_read(invalidate_lock) */
    :: d_step { pc == MK_INVALIDATE_LOCK && can_read(invalidate_lock) ->
        down_read(invalidate_lock);
        pc = MK_FOLIO_LOCK }
    /* block_page_mkwrite: folio_lock(folio) (Folio.canProceed: owner === null) */
    :: d_step { pc == MK_FOLIO_LOCK && folio_owner[L] == 0 ->
        folio_owner[L] = ME;
        pc = MK_WRITE_BEGIN }
    /* __block_write_begin_int: buffer_mapped(bh)? no get_block : ext4_da_get_block_prep() */
    :: d_step { pc == MK_WRITE_BEGIN ->
        if
        :: (bh[L] & BH_MAPPED) != 0 -> pc = MK_COMMIT
        :: else -> pc = DA_LOOKUP
        fi }
    /* ext4_da_map_blocks: ext4_es_lookup_extent() without i_data_sem */
    :: d_step { pc == DA_LOOKUP ->
        e = es[L];
        if
        :: e != 0 && !es_is_hole(e) -> found(e)
        :: e == 0 -> pc = DA_DOWN_READ
        :: else -> pc = DA_ADD_DELAYED   /* a cached hole: goto add_delayed */
        fi;
        e = 0 }
    /* ext4_da_map_blocks: down_read(&EXT4_I(inode)->i_data_sem) */
    :: d_step { pc == DA_DOWN_READ && can_read(i_data_sem) ->
        down_read(i_data_sem);
        pc = DA_QUERY }
    /* ext4_map_query_blocks -> ext4_ext_map_blocks(flags 0) */
    :: d_step { pc == DA_QUERY ->
        map_query_blocks();
        pc = DA_UP_READ }
    /* ext4_da_map_blocks: up_read(i_data_sem); a mapping returns, a hole goes to add_delayed */
    :: d_step { pc == DA_UP_READ ->
        up_read(i_data_sem);
        if
        :: mapped -> pc = DA_MAP_BH
        :: else -> pc = DA_ADD_DELAYED
        fi;
        mapped = 0 }
    /* ext4_da_map_blocks add_delayed: down_write(&EXT4_I(inode)->i_data_sem) */
    :: d_step { pc == DA_ADD_DELAYED && can_write(i_data_sem) ->
        down_write(i_data_sem);
#ifdef RECHECK_ES
        pc = DA_RECHECK
#else
        pc = DA_RESERVE
#endif
        }
#ifdef RECHECK_ES
    /* ext4_da_map_blocks (0ea6560abb3b): ext4_es_lookup_extent() again under i_data_sem */
    :: d_step { pc == DA_RECHECK ->
        e = es[L];
        if
        :: e != 0 && !es_is_hole(e) -> pc = DA_RECHECK_UP_WRITE   /* keeps `again` for found */
        :: e != 0 -> e = 0; pc = DA_RESERVE                        /* still a hole */
        :: else -> pc = DA_RECHECK_QUERY                           /* no entry: look on disk */
        fi }
    /* ext4_map_query_blocks under i_data_sem (write) */
    :: d_step { pc == DA_RECHECK_QUERY ->
        map_query_blocks();
        if
        :: mapped -> pc = DA_UP_WRITE_MAPPED
        :: else -> pc = DA_RESERVE
        fi;
        mapped = 0 }
    /* ext4_da_map_blocks: up_write(i_data_sem); goto found */
    :: d_step { pc == DA_RECHECK_UP_WRITE ->
        up_write(i_data_sem);
        found(e);
        e = 0 }
    /* ext4_da_map_blocks: up_write(i_data_sem); return the on-disk mapping */
    :: d_step { pc == DA_UP_WRITE_MAPPED ->
        up_write(i_data_sem);
        pc = DA_MAP_BH }
#endif
    /* ext4_insert_delayed_block -> ext4_da_reserve_space: i_reserved_data_blocks++ */
    :: d_step { pc == DA_RESERVE ->
        i_reserved_data_blocks++;
        pc = DA_INSERT_DELAYED }
    /* ext4_insert_delayed_block -> ext4_es_insert_delayed_block(); racelab's invariant:
       "ext4_es_insert_delayed_block() replaced an allocated (<disk>) extent" */
    :: d_step { pc == DA_INSERT_DELAYED ->
        assert(disk[L] == DISK_HOLE);
        es[L] = ES_DELAYED;
        pc = DA_UP_WRITE }
    /* ext4_da_map_blocks: up_write(i_data_sem) */
    :: d_step { pc == DA_UP_WRITE ->
        up_write(i_data_sem);
        pc = DA_SET_DELAY }
    /* ext4_da_map_blocks: map_bh(bh, sb, invalid_block); set_buffer_new(bh); set_buffer_delay(bh) */
    :: d_step { pc == DA_SET_DELAY ->
        bh[L] = bh[L] | BH_MAPPED | BH_NEW | BH_DELAY;
        pc = MK_COMMIT }
    /* ext4_da_get_block_prep: map_bh(); ext4_update_bh_state(): new and unwritten as the mapping */
    :: d_step { pc == DA_MAP_BH ->
        bh[L] = (bh[L] & ~(BH_NEW | BH_UNWRITTEN)) | BH_MAPPED;
        if
        :: unw -> bh[L] = bh[L] | BH_NEW | BH_UNWRITTEN
        :: else -> skip
        fi;
        unw = 0;
        pc = MK_COMMIT }
    /* block_page_mkwrite: __block_commit_write() (mark_buffer_dirty); folio_mark_dirty() */
    :: d_step { pc == MK_COMMIT ->
        bh[L] = bh[L] | BH_DIRTY;
        pc = MK_INVALIDATE_UNLOCK }
    /* ext4_page_mkwrite: filemap_invalidate_unlock_shared() = up_read(invalidate_lock) */
    :: d_step { pc == MK_INVALIDATE_UNLOCK ->
        up_read(invalidate_lock);
        pc = MK_FAULT_UNLOCK }
    /* fault_dirty_shared_page: folio_unlock() (the fault core unlocks after VM_FAULT_LOCKED) */
    :: d_step { pc == MK_FAULT_UNLOCK ->
        assert(folio_owner[L] == ME);   /* folio_unlock by a non-holder: a model error in racelab */
        folio_owner[L] = 0;
        pc = 0;
        done++ };
        break
    od
}

#undef L

/* ---- ext4_fallocate() mode 0 -> ext4_alloc_file_blocks() -> ext4_map_blocks(CREATE_UNWRIT_EXT) -- */

#define FA_INODE_LOCK   1  /* FALLOC.inodeLock   ext4_fallocate: inode_lock(inode) = down_write(i_rwsem) */
#define FA_LOOKUP       2  /* FALLOC.lookup      ext4_map_blocks: find extent in es tree (no i_data_sem) */
#define FA_DOWN_READ    3  /* FALLOC.downRead    ext4_map_blocks: down_read(i_data_sem) */
#define FA_QUERY        4  /* FALLOC.query       ext4_ext_map_blocks: look up the on-disk extent tree (flags 0) */
#define FA_UP_READ      5  /* FALLOC.upRead      ext4_map_blocks: up_read(i_data_sem) */
#define FA_DOWN_WRITE   6  /* FALLOC.downWrite   ext4_map_blocks: down_write(i_data_sem) */
#define FA_ALLOC        7  /* FALLOC.alloc       ext4_ext_map_blocks: allocate block and unwritten extent */
#define FA_ES_INSERT    8  /* FALLOC.esInsert    ext4_map_blocks: ext4_es_insert_extent(UNWRITTEN) */
#define FA_UP_WRITE     9  /* FALLOC.upWrite     ext4_map_blocks: up_write(i_data_sem) */
#define FA_INODE_UNLOCK 10 /* FALLOC.inodeUnlock ext4_fallocate: inode_unlock(inode) */

#define L (_pid - BLOCKS)

/* threads fallocate[L]: _pid = BLOCKS + L */
active [BLOCKS] proctype ext4_fallocate()
{
    byte pc = FA_INODE_LOCK;
    bit written;   /* the block is allocated and written: ext4_map_blocks returns without allocating */

    do
    /* ext4_fallocate: inode_lock(inode) */
    :: d_step { pc == FA_INODE_LOCK && can_write(i_rwsem) ->
        down_write(i_rwsem);
        pc = FA_LOOKUP }
    /* ext4_map_blocks: ext4_es_lookup_extent() without i_data_sem */
    :: d_step { pc == FA_LOOKUP ->
        if
        :: es[L] != 0 ->
            if
            :: es_is_written(es[L]) -> pc = FA_INODE_UNLOCK
            :: else -> pc = FA_DOWN_WRITE
            fi
        :: else -> pc = FA_DOWN_READ
        fi }
    /* ext4_map_blocks: down_read(&EXT4_I(inode)->i_data_sem) */
    :: d_step { pc == FA_DOWN_READ && can_read(i_data_sem) ->
        down_read(i_data_sem);
        pc = FA_QUERY }
    /* ext4_ext_map_blocks(flags 0), the result cached in the es tree (DELAYED kept on an unwritten extent) */
    :: d_step { pc == FA_QUERY ->
        if
        :: disk[L] == DISK_HOLE ->
            if
            :: !es_is_delayed(es[L]) -> es[L] = ES_HOLE
            :: else -> skip
            fi
        :: disk[L] == DISK_WRITTEN -> es[L] = ES_WRITTEN
        :: else ->
            if
            :: es_is_delayed(es[L]) -> es[L] = ES_UNWRITTEN | ES_DELAYED
            :: else -> es[L] = ES_UNWRITTEN
            fi
        fi;
        written = (disk[L] == DISK_WRITTEN);
        pc = FA_UP_READ }
    /* ext4_map_blocks: up_read(i_data_sem); found: allocated and written returns */
    :: d_step { pc == FA_UP_READ ->
        up_read(i_data_sem);
        if
        :: written -> pc = FA_INODE_UNLOCK
        :: else -> pc = FA_DOWN_WRITE
        fi;
        written = 0 }
    /* ext4_map_blocks: down_write(&EXT4_I(inode)->i_data_sem) */
    :: d_step { pc == FA_DOWN_WRITE && can_write(i_data_sem) ->
        down_write(i_data_sem);
        pc = FA_ALLOC }
    /* ext4_ext_map_blocks(CREATE_UNWRIT_EXT): ext4_mb_new_blocks + ext4_ext_insert_extent; a
       non-DELALLOC_RESERVE allocation over a delonly block releases its reservation */
    :: d_step { pc == FA_ALLOC ->
        if
        :: disk[L] == DISK_HOLE ->
            disk[L] = DISK_UNWRITTEN;
            if
            :: es_is_delonly(es[L]) -> ext4_da_update_reserve_space(1)
            :: else -> skip
            fi
        :: else -> skip   /* already allocated on disk */
        fi;
        pc = FA_ES_INSERT }
    /* ext4_map_blocks: ext4_es_insert_extent(UNWRITTEN), OR-ed with DELAYED over a delayed extent */
    :: d_step { pc == FA_ES_INSERT ->
        if
        :: es_is_delayed(es[L]) -> es[L] = ES_UNWRITTEN | ES_DELAYED
        :: else -> es[L] = ES_UNWRITTEN
        fi;
        pc = FA_UP_WRITE }
    /* ext4_map_blocks: up_write(i_data_sem) */
    :: d_step { pc == FA_UP_WRITE ->
        up_write(i_data_sem);
        pc = FA_INODE_UNLOCK }
    /* ext4_fallocate: inode_unlock(inode) */
    :: d_step { pc == FA_INODE_UNLOCK ->
        up_write(i_rwsem);
        pc = 0;
        done++ };
        break
    od
}

#undef L

/* ---- writeback+evict: runs once the racing threads have finished ------------------------------ */

/*
 * writeback_evict() (threads.ts): per block one AFTER.writepages step (mpage_map_one_extent ->
 * ext4_map_blocks for a dirty delayed or unwritten buffer; the first waits for every other thread,
 * afterAll), then AFTER.clearInode (ext4_clear_inode: ext4_es_remove_extent(0, EXT_MAX_BLOCKS),
 * ext4_da_release_space) and AFTER.destroyInode (ext4_destroy_inode: check i_reserved_data_blocks).
 */
active proctype writeback_evict()
{
    byte wl;        /* the block writeback is at; BLOCKS: clear_inode; BLOCKS + 1: destroy_inode */
    byte b;         /* scratch: bh bits, a block index */
    byte reserved;  /* clear_inode: delonly blocks removed */

    do
    /* mpage_map_one_extent: writeback: ext4_map_blocks() for a dirty block */
    :: d_step { wl < BLOCKS && (wl > 0 || done == 2 * BLOCKS) ->
        if
        :: (bh[wl] & BH_DIRTY) != 0 && (bh[wl] & (BH_DELAY | BH_UNWRITTEN)) != 0 ->
            if
            :: disk[wl] == DISK_HOLE ->
                disk[wl] = DISK_WRITTEN;
                /* DELALLOC_RESERVE: the new allocation consumes the reservation */
                if
                :: (bh[wl] & BH_DELAY) != 0 -> ext4_da_update_reserve_space(1)
                :: else -> skip
                fi
            :: else -> disk[wl] = DISK_WRITTEN   /* unwritten converted: nothing consumed */
            fi;
            es[wl] = ES_WRITTEN;   /* ext4_es_insert_extent(): drops a delayed entry, releases nothing */
            bh[wl] = bh[wl] & ~(BH_DELAY | BH_UNWRITTEN | BH_NEW | BH_DIRTY)
        :: else -> skip   /* nothing to map */
        fi;
        wl++ }
    /* ext4_clear_inode: ext4_es_remove_extent(0, EXT_MAX_BLOCKS) -> ext4_da_release_space();
       racelab's warning "ext4_da_release_space: to_free %d with only %d reserved data blocks" */
    :: d_step { wl == BLOCKS ->
        b = 0;
        do
        :: b < BLOCKS ->
            if
            :: es_is_delonly(es[b]) -> reserved++
            :: else -> skip
            fi;
            es[b] = 0;
            b++
        :: else -> break
        od;
        b = 0;
        if
        :: reserved > 0 ->
            assert(reserved <= i_reserved_data_blocks);
            if
            :: reserved > i_reserved_data_blocks -> i_reserved_data_blocks = 0
            :: else -> i_reserved_data_blocks = i_reserved_data_blocks - reserved
            fi
        :: else -> skip
        fi;
        reserved = 0;
        wl++ }
    /* ext4_destroy_inode: "Inode %lu (%p): i_reserved_data_blocks (%u) not cleared!" */
    :: d_step { wl == BLOCKS + 1 ->
        assert(i_reserved_data_blocks == 0);
        wl = 0 };
        break
    od
}
