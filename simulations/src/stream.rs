//! Counter-based random streams: every draw is keyed by (seed, member, replication, period,
//! purpose), never by how many draws came before it elsewhere. So a member's readings are the
//! same whichever thread makes them, in whatever order, in whichever shard, and plan A and plan
//! B see the same members and readings (common random numbers).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// What a stream is drawn for; two purposes never share a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// A member's attributes and their persistent traits (glycaemia, habits).
    Member = 1,
    /// A member's readings in one period.
    Readings = 2,
    /// Whether a member wears a CGM (its own stream, so finger-stick draws are unchanged).
    Cgm = 3,
    /// A replication's assumptions, when they are drawn (`[uncertainty] assumptions = "drawn"`).
    Assumptions = 4,
    /// Whether a member leaves the plans at the start of a period (`[lapse]`): one draw a
    /// member-period, the same for every plan.
    Lapse = 5,
    /// Whether a member enrols in the plans (`[enrolment]`), the same for every plan.
    Enrolment = 6,
}

/// SplitMix64's finaliser: a bijection on u64 that spreads every input bit over the output.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for one key.
pub fn stream(
    seed: u64,
    member: u64,
    replication: u64,
    period: u64,
    purpose: Purpose,
) -> ChaCha8Rng {
    let mut key = [0_u8; 32];
    let words = [
        mix(seed ^ mix(purpose as u64)),
        mix(member ^ mix(seed.rotate_left(17))),
        mix(replication ^ mix(seed.rotate_left(31))),
        mix(period ^ mix(seed.rotate_left(47))),
    ];
    for (chunk, word) in key.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_stream_depends_on_its_key_alone() {
        let a: u64 = stream(7, 3, 1, 2, Purpose::Readings).random();
        let again: u64 = stream(7, 3, 1, 2, Purpose::Readings).random();
        assert_eq!(a, again);
        for other in [
            stream(8, 3, 1, 2, Purpose::Readings),
            stream(7, 4, 1, 2, Purpose::Readings),
            stream(7, 3, 2, 2, Purpose::Readings),
            stream(7, 3, 1, 3, Purpose::Readings),
            stream(7, 3, 1, 2, Purpose::Member),
        ] {
            let mut other = other;
            assert_ne!(a, other.random::<u64>());
        }
    }
}
