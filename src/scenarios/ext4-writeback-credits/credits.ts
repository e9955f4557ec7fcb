/**
 * The credit estimates of v6.15-rc1 and of 32a93f5bc9b9, as in fs/ext4/inode.c and
 * fs/ext4/extents.c (SOURCES.md quotes them):
 *
 * ```c
 * int ext4_ext_index_trans_blocks(struct inode *inode, int extents)
 * {	...
 *	depth = ext_depth(inode);
 *	if (extents <= 1)
 *		index = depth * 2;        // 32a93f5bc9b9: EXT4_MAX_EXTENT_DEPTH * 2
 *	else
 *		index = depth * 3;        // 32a93f5bc9b9: EXT4_MAX_EXTENT_DEPTH * 3
 *	return index; }
 * static int ext4_meta_trans_blocks(struct inode *inode, int lblocks, int pextents)
 * {	idxblocks = ext4_index_trans_blocks(inode, lblocks, pextents);
 *	ret = idxblocks;
 *	groups = idxblocks + pextents;
 *	gdpblocks = groups;
 *	if (groups > ngroups) groups = ngroups;
 *	if (groups > EXT4_SB(inode->i_sb)->s_gdb_count) gdpblocks = EXT4_SB(inode->i_sb)->s_gdb_count;
 *	ret += groups + gdpblocks;
 *	ret += EXT4_META_TRANS_BLOCKS(inode->i_sb);
 *	return ret; }
 * int ext4_chunk_trans_blocks(struct inode *inode, int nrblocks)
 * {	return ext4_meta_trans_blocks(inode, nrblocks, 1); }
 * static int ext4_da_writepages_trans_blocks(struct inode *inode)
 * {	int bpp = ext4_journal_blocks_per_page(inode);
 *	return ext4_meta_trans_blocks(inode, MAX_WRITEPAGES_EXTENT_LEN + bpp - 1, bpp); }
 * ```
 */
import { EXT4_MAX_EXTENT_DEPTH } from "../../linux/ext4_extent_tree.js";

/** MAX_WRITEPAGES_EXTENT_LEN (fs/ext4/inode.c). */
export const MAX_WRITEPAGES_EXTENT_LEN = 2048;
/** Blocks per 4 KiB page with 2048-byte blocks (jbd2_journal_blocks_per_page()). */
export const BPP = 2;
/** EXT4_META_TRANS_BLOCKS(sb) = EXT4_XATTR_TRANS_BLOCKS (6) + EXT4_MAXQUOTAS_TRANS_BLOCKS (0 without quota). */
export const EXT4_META_TRANS_BLOCKS = 6;
/**
 * ext4_get_groups_count() and s_gdb_count of the filesystem in Luis Chamberlain's e2fsck output
 * (10485760 blocks of 2 KiB: 640 groups of 16384 blocks; 64-byte descriptors, 32 per block: 20
 * descriptor blocks). Neither cap binds at the depths modeled.
 */
export const NGROUPS = 640;
export const GDB_COUNT = 20;

/** ext4_ext_index_trans_blocks(inode, extents) at `depth`; with the fix the depth is EXT4_MAX_EXTENT_DEPTH. */
export function ext4_ext_index_trans_blocks(depth: number, extents: number, maxDepth: boolean): number {
  const d = maxDepth ? EXT4_MAX_EXTENT_DEPTH : depth;
  return extents <= 1 ? d * 2 : d * 3;
}

/** ext4_meta_trans_blocks(inode, lblocks, pextents) for an extent-mapped inode, and its parts. */
export function ext4_meta_trans_blocks(depth: number, pextents: number, maxDepth: boolean): { total: number; idx: number; groups: number; gdp: number } {
  const idx = ext4_ext_index_trans_blocks(depth, pextents, maxDepth);
  let groups = idx + pextents;
  let gdp = groups;
  if (groups > NGROUPS) groups = NGROUPS;
  if (groups > GDB_COUNT) gdp = GDB_COUNT;
  return { total: idx + groups + gdp + EXT4_META_TRANS_BLOCKS, idx, groups, gdp };
}

/** What an estimate reserved, in words: `10 = 0 index + 2 bitmaps + 2 descriptor blocks + 6 (depth 0)`. */
export function explain(e: { total: number; idx: number; groups: number; gdp: number }, depth: number, maxDepth: boolean): string {
  return (
    `${e.total} = ${e.idx} index/leaf + ${e.groups} bitmaps + ${e.gdp} descriptor blocks + ${EXT4_META_TRANS_BLOCKS} ` +
    `(${maxDepth ? `EXT4_MAX_EXTENT_DEPTH ${EXT4_MAX_EXTENT_DEPTH}; the tree has depth ${depth}` : `ext_depth ${depth}`})`
  );
}
