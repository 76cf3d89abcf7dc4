package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExtentMapTest {
    @Test
    void aStalePageIsMarkedOnTheCopyThatMissedTheWriteAndClearedByAWriteThatReachesIt() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(3, 0);
        map.addReplica(e, 0, false);
        map.addReplica(e, 1, false);
        assertFalse(map.mayHaveStale(), "the copies of a new extent know every page");
        map.markStale(e, 0, 5);
        assertTrue(map.mayHaveStale());
        assertTrue(map.isStale(e, 0, 5));
        assertFalse(map.isStale(e, 0, 6), "only the page that missed the write");
        assertFalse(map.isStale(e, 1, 5), "only on the copy that missed it");
        map.clearStale(e, 1L << 1, 5);
        assertTrue(map.isStale(e, 0, 5), "a write that reached another copy says nothing of this one");
        map.clearStale(e, 1L, 5);
        assertFalse(map.hasStale(e, 0));
    }

    @Test
    void aFillingCopyKnowsAPageOnlyOnceAWriteOfItReachedItOrTheCopyIsComplete() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(3, 0);
        map.addReplica(e, 0, false);
        map.addReplica(e, 2, true);
        assertTrue(map.isStale(e, 1, 0) && map.isStale(e, 1, 63), "its donor may hold pages of an earlier copy");
        assertEquals(ExtentMap.HandBack.NOT_YET, map.handedBack(3, 5, 2));
        map.clearStale(e, 1L | 1L << 2, 5);
        assertEquals(ExtentMap.HandBack.COMPARE, map.handedBack(3, 5, 2), "a write of the page reached it");
        assertEquals(ExtentMap.HandBack.NOT_YET, map.handedBack(3, 6, 2));
        map.markStale(e, 2, 5);
        assertEquals(ExtentMap.HandBack.NOT_YET, map.handedBack(3, 5, 2), "a later write missed it");
        map.markComplete(e, 2);
        assertFalse(map.hasStale(e, 1), "copied whole: it holds every page as the map knows it");
        assertEquals(ExtentMap.HandBack.COMPARE, map.handedBack(3, 6, 2));
    }

    @Test
    void aHandedBackPageIsComparedOnlyWhereTheMapTrustsTheDonorsCopyWithIt() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(3, 0);
        map.addReplica(e, 0, false);
        map.addReplica(e, 1, false);
        assertEquals(ExtentMap.HandBack.COMPARE, map.handedBack(3, 7, 0));
        assertEquals(ExtentMap.HandBack.STALE, map.handedBack(3, 7, 4), "a donor the extent has no copy on");
        assertEquals(ExtentMap.HandBack.STALE, map.handedBack(3, 64 + 7, 0), "an extent the map does not know");
        map.markStale(e, 1, 7);
        assertEquals(ExtentMap.HandBack.STALE, map.handedBack(3, 7, 1), "a complete copy that missed a write of it");
        map.dropCopy(e, 0);
        assertEquals(ExtentMap.HandBack.STALE, map.handedBack(3, 8, 0), "a copy forgotten");
        map.dropCopy(e, 1);
        map.addReplica(e, 0, false);
        assertEquals(ExtentMap.HandBack.STALE, map.handedBack(3, 8, 0), "a page lost with the extent's last copy");
        map.clearPageLost(e, 8);
        assertEquals(ExtentMap.HandBack.COMPARE, map.handedBack(3, 8, 0), "written since, on this copy");
    }

    @Test
    void aCopyWithStalePagesIsRefilledWholeAndAFlushObjectThatMissedACopyMarksEveryPageOfTheObject() {
        ExtentMap map = new ExtentMap();
        int a = map.findOrAdd(4, 0);
        int b = map.findOrAdd(4, 1);
        int other = map.findOrAdd(5, 0);
        for (int e : new int[] {a, b, other}) {
            map.addReplica(e, 0, false);
            map.addReplica(e, 1, false);
        }
        map.markObjectStale(4, 1);
        assertTrue(map.isStale(a, 1, 0) && map.isStale(a, 1, 63) && map.isStale(b, 1, 64 + 17));
        assertFalse(map.hasStale(other, 1), "another object's pages are untouched");
        assertFalse(map.hasStale(a, 0));
        map.refill(a, 1);
        assertEquals(1, map.completeCount(a), "a refilled copy is no longer read");
        assertTrue(map.hasStale(a, 1), "its pages stay unknown until it is copied whole");
        map.dropFillingOn(1);
        assertEquals(1, map.replicaCount(a), "a filling copy on a donor gone suspect is given up");
        assertEquals(2, map.replicaCount(b), "a complete one is kept");
    }

    @Test
    void extentsAreFoundAgainAfterTheMapGrows() {
        ExtentMap map = new ExtentMap();
        for (int e = 0; e < 10_000; e++) {
            int entry = map.findOrAdd(e % 7, e);
            map.addReplica(entry, e % 5, false);
        }
        assertEquals(10_000, map.size());
        for (int e = 0; e < 10_000; e++) {
            int entry = map.find(e % 7, e);
            assertEquals(e % 5, map.replica(entry, 0));
        }
        assertEquals(ExtentMap.NONE, map.find(99, 1));
    }

    @Test
    void losingTheLastCompleteCopyLosesTheExtentEvenWithAFillingCopy() {
        ExtentMap map = new ExtentMap();
        int kept = map.findOrAdd(1, 0);
        map.addReplica(kept, 0, false);
        map.addReplica(kept, 1, false);
        int gone = map.findOrAdd(1, 1);
        map.addReplica(gone, 0, false);
        map.addReplica(gone, 2, true); // still being filled: it may lack old pages

        assertEquals(1, map.dropDonor(0));
        assertFalse(map.isLost(kept));
        assertEquals(1, map.completeCount(kept));
        assertTrue(map.isLost(gone));
        assertEquals(0, map.replicaCount(gone), "a filling copy cannot stand in for the lost ones");
    }

    @Test
    void aWriteStampChangesWithEveryWriteAndIsUnsetWhileOneIsUnderWay() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(3, 4);
        long before = map.writeStamp(e);
        map.beginWrite(e);
        assertEquals(Long.MIN_VALUE, map.writeStamp(e), "no copy may start while a write is in flight");
        map.endWrite(e);
        assertNotEquals(before, map.writeStamp(e));
        long after = map.writeStamp(e);
        map.beginBulkWrite();
        map.endBulkWrite();
        assertNotEquals(after, map.writeStamp(e), "flush_object changes every extent's stamp");
    }

    @Test
    void noCopyIsValidWhileAFlushObjectIsUnderWay() {
        // A copy that starts after flush_object began and ends before it ended would otherwise put back a page the
        // flush had just removed from the new copy, and be marked complete with it.
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(3, 4);
        map.beginBulkWrite();
        assertEquals(Long.MIN_VALUE, map.writeStamp(e), "no copy may start while flush_object is in flight");
        map.endBulkWrite();
        assertNotEquals(Long.MIN_VALUE, map.writeStamp(e));
    }

    @Test
    void droppingTheLastCompleteCopyLosesTheExtentAndItsFillingCopies() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(1, 0);
        map.addReplica(e, 2, false);
        map.addReplica(e, 3, true);
        assertFalse(map.dropCopy(e, 3), "a filling copy is not the last complete one");
        map.addReplica(e, 3, true);
        assertTrue(map.dropCopy(e, 2));
        assertTrue(map.isLost(e));
        assertEquals(0, map.replicaCount(e), "a filling copy never received the old pages");
    }

    @Test
    void aFillingCopyBecomesReadableOnlyWhenMarkedComplete() {
        ExtentMap map = new ExtentMap();
        int e = map.findOrAdd(0, 0);
        map.addReplica(e, 4, false);
        int k = map.addReplica(e, 6, true);
        assertTrue(map.isFilling(e, k));
        assertEquals(1, map.completeCount(e));
        map.markComplete(e, 6);
        assertEquals(2, map.completeCount(e));
        assertTrue(map.holds(e, 6));
        map.removeReplica(e, 6);
        assertFalse(map.holds(e, 6));
    }
}
