package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Handle;
import dev.pagepool.protocol.Status;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The one rule for a failed copy, outcome by outcome. */
class CopyFailureTest {
    @Test
    void aCopyIsGoneWhenTheDonorLostThePoolSentADamagedPageOrBrokeTheProtocol() {
        assertEquals(CopyFailure.GONE, CopyFailure.of(new NoSuchPoolException("restarted")));
        assertEquals(CopyFailure.GONE, CopyFailure.of(new CorruptPageException(new Handle(1, 2, 3), "d")));
        assertEquals(CopyFailure.GONE, CopyFailure.of(new ProtocolViolationException("garbage")));
        assertTrue(CopyFailure.wholeDonor(new NoSuchPoolException("restarted")));
        assertTrue(CopyFailure.wholeDonor(new ProtocolViolationException("garbage")));
        assertFalse(CopyFailure.wholeDonor(new CorruptPageException(new Handle(1, 2, 3), "d")),
            "a damaged page condemns that copy, not the donor's others");
    }

    @Test
    void aCopyIsUnreachableForNowOnATimeoutAClosedConnectionBusyOrARefusalOfItsOwn() {
        DonorUnavailableException timeout = new DonorUnavailableException("did not answer within 2000 ms");
        assertEquals(CopyFailure.UNREACHABLE, CopyFailure.of(timeout));
        assertEquals(CopyFailure.UNREACHABLE, CopyFailure.of(new CompletionException(timeout)), "unwrapped first");
        assertTrue(CopyFailure.silent(timeout), "no answer at all: the donor is suspect");
        assertEquals(CopyFailure.UNREACHABLE, CopyFailure.of(new BusyException("reserve")));
        assertFalse(CopyFailure.silent(new BusyException("reserve")), "BUSY is an answer: the donor is alive");
        assertEquals(CopyFailure.UNREACHABLE, CopyFailure.of(new PagePoolException(Status.INTERNAL, "oops")));
        assertEquals(CopyFailure.UNREACHABLE, CopyFailure.of(new PagePoolException(Status.FENCED, "old connection")));
        assertFalse(CopyFailure.wholeDonor(timeout));
    }

    @Test
    void theCallerIsWrongOnABadSecretOrNoAuthentication() {
        assertEquals(CopyFailure.CALLERS, CopyFailure.of(new BadSecretException("uuid")));
        assertEquals(CopyFailure.CALLERS, CopyFailure.of(new UnauthenticatedException("token")));
    }
}
