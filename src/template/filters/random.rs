//! `random` and `shuffle`. With a seed they reproduce Python's
//! `random.Random(seed)` exactly (Mersenne Twister, Python's seeding), so a
//! seeded choice is the one Ansible makes.

use super::{fail, lists::items};
use minijinja::value::{Kwargs, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use sha2::Digest as _;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("random", random);
    env.add_filter("shuffle", shuffle);
}

/// `end | random(start=None, step=None, seed=None)`.
fn random(end: Jinja, start: Option<i64>, step: Option<i64>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let start = start.or(kwargs.get::<Option<i64>>("start")?).unwrap_or(0);
    let step = step.or(kwargs.get::<Option<i64>>("step")?).unwrap_or(0);
    let seed = kwargs.get::<Option<Jinja>>("seed")?;
    kwargs.assert_all_used()?;
    let mut rng = Source::new(seed.as_ref())?;
    if end.kind() == ValueKind::Number && end.is_integer() {
        let end = i64::try_from(end).map_err(|_| fail("random: the end is out of range"))?;
        let step = if step == 0 { 1 } else { step };
        return Ok(Jinja::from(rng.randrange(start, end, step)?));
    }
    if start != 0 || step != 0 {
        return Err(fail("start and step can only be used with integer values"));
    }
    let choices = items(&end).map_err(|_| fail("random can only be used on sequences and integers"))?;
    if choices.is_empty() {
        return Err(fail("random: cannot choose from an empty sequence"));
    }
    let i = rng.below(choices.len() as u64) as usize;
    Ok(choices[i].clone())
}

fn shuffle(list: Jinja, kwargs: Kwargs) -> Result<Jinja, Error> {
    let seed = kwargs.get::<Option<Jinja>>("seed")?.filter(|s| s.is_true());
    kwargs.assert_all_used()?;
    let mut xs = items(&list)?;
    let mut rng = Source::new(seed.as_ref())?;
    for i in (1..xs.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        xs.swap(i, j);
    }
    Ok(Jinja::from(xs))
}

/// Python's `Random(seed)`, or the OS's randomness without a seed.
enum Source {
    Seeded(Box<Mt19937>),
    Os,
}

impl Source {
    fn new(seed: Option<&Jinja>) -> Result<Self, Error> {
        let Some(seed) = seed.filter(|s| !s.is_none()) else {
            return Ok(Source::Os);
        };
        let key = if let Some(text) = seed.as_str() {
            // Python's seed version 2 for str: the text followed by its SHA-512.
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(&sha2::Sha512::digest(text.as_bytes()));
            big_endian_to_words(&bytes)
        } else if let Ok(n) = i128::try_from(seed.clone()) {
            let mut n = n.unsigned_abs();
            let mut words = Vec::new();
            while n > 0 {
                words.push(n as u32);
                n >>= 32;
            }
            words
        } else {
            return Err(fail(format!("random: a seed must be a string or an integer, got {}", seed.kind())));
        };
        Ok(Source::Seeded(Box::new(Mt19937::from_key(&key))))
    }

    fn bits(&mut self, k: u32) -> u64 {
        match self {
            Source::Seeded(mt) => mt.getrandbits(k),
            Source::Os => {
                use rand::RngExt as _;
                let r: u64 = rand::rng().random();
                if k >= 64 { r } else { r & ((1u64 << k) - 1) }
            }
        }
    }

    /// Python's `_randbelow`: rejection sampling on `n.bit_length()` bits.
    fn below(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.bits(k);
            if r < n {
                return r;
            }
        }
    }

    fn randrange(&mut self, start: i64, stop: i64, step: i64) -> Result<i64, Error> {
        let width = stop - start;
        let n = if step > 0 { (width + step - 1) / step } else { (width + step + 1) / step };
        if n <= 0 {
            return Err(fail(format!("empty range for randrange() ({start}, {stop}, {step})")));
        }
        Ok(start + step * self.below(n as u64) as i64)
    }
}

/// An integer's bytes (big-endian) as 32-bit words, least significant first.
fn big_endian_to_words(bytes: &[u8]) -> Vec<u32> {
    let mut words: Vec<u32> = bytes
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |w, b| (w << 8) | *b as u32))
        .collect();
    while words.len() > 1 && words.last() == Some(&0) {
        words.pop();
    }
    words
}

/// MT19937 as CPython's `_random` module implements it.
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    fn from_seed(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            state[i] = 1_812_433_253u32.wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30)).wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    /// `init_by_array`; an empty key acts as `[0]`, as CPython does.
    fn from_key(key: &[u32]) -> Self {
        let key = if key.is_empty() { &[0u32][..] } else { key };
        let mut mt = Self::from_seed(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..624.max(key.len()) {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1_664_525)).wrapping_add(key[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= 624 {
                s[0] = s[623];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..623 {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                s[0] = s[623];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7fff_ffff);
            let mut next = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 == 1 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = next;
        }
        self.index = 0;
    }

    /// Python's `getrandbits(k)` for k up to 64.
    fn getrandbits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return (self.next_u32() >> (32 - k)) as u64;
        }
        let low = self.next_u32() as u64;
        let high = (self.next_u32() >> (64 - k)) as u64;
        low | (high << 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by CPython 3.11: `Random(42).getrandbits(32)` and
    /// `Random('x').choice([3, 1, 2])`.
    #[test]
    fn matches_cpython() {
        let mut mt = Mt19937::from_key(&[42]);
        assert_eq!(mt.next_u32(), 2_746_317_213);
        let mut rng = Source::new(Some(&Jinja::from(42))).unwrap();
        assert_eq!(rng.randrange(0, 100, 1).unwrap(), 81);
        let mut rng = Source::new(Some(&Jinja::from("x"))).unwrap();
        assert_eq!([3, 1, 2][rng.below(3) as usize], 2);
    }
}
