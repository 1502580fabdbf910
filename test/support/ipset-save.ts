/**
 * The test oracle for the ipset reader: `ipset save` text of the same kernel state, read into each
 * set's type, family and members in kube-proxy's text form. Independent of the code under test: the
 * one difference between the two forms — `ipset save` leaves a host prefix off a hash:ip,port,net
 * member's net part — is put back here by hand.
 */
export interface SavedSet {
  type: string;
  family: 'inet' | 'inet6' | null;
  /** Members in kube-proxy's text form, sorted. */
  members: string[];
}

export function parseIpsetSave(text: string): Map<string, SavedSet> {
  const sets = new Map<string, SavedSet>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'create' && words[1] !== undefined && words[2] !== undefined) {
      const familyAt = words.indexOf('family');
      const family = familyAt < 0 ? null : (words[familyAt + 1] as 'inet' | 'inet6');
      sets.set(words[1], { type: words[2], family, members: [] });
    } else if (words[0] === 'add' && words[1] !== undefined && words[2] !== undefined) {
      const set = sets.get(words[1]);
      if (set === undefined) throw new Error(`ipset save: add to ${words[1]} before its create`);
      let member = words.slice(2).join(' ');
      if (set.type === 'hash:ip,port,net' && !member.split(',')[2]?.includes('/')) member += set.family === 'inet6' ? '/128' : '/32';
      set.members.push(member);
    }
  }
  for (const set of sets.values()) set.members.sort();
  return sets;
}
