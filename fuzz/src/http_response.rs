//! An answer to the HTTP check, from a server we do not control: any bytes, read as they
//! arrive. It never panics; at most 64 KiB of body is kept and 1 MiB taken; an answer that is
//! over has a status; an error is one line; and the same bytes cut into pieces (their sizes
//! drawn from the first byte) read the same as whole, but for how much of a bad status line
//! its error shows.

use exabgp_healthcheck::probe::http::response::{Error, Parser, BODY_LIMIT, WIRE_LIMIT};

/// The result, the status, the body kept, whether it is over, whether it was cut.
type Outcome = (Result<(), Error>, Option<u16>, Vec<u8>, bool, bool);

/// Feed `pieces` until the answer is over or fails; if neither, the server closes.
fn read<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = Parser::new();
    let mut result = None;
    for piece in pieces {
        match parser.feed(piece) {
            Ok(false) => {}
            Ok(true) => result = Some(Ok(())),
            Err(err) => result = Some(Err(err)),
        }
        if result.is_some() {
            break;
        }
    }
    let result = result.unwrap_or_else(|| parser.close());
    assert!(parser.body().len() <= BODY_LIMIT && parser.taken() <= WIRE_LIMIT);
    match &result {
        Ok(()) => assert!(parser.is_done() && parser.status().is_some()),
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.is_empty() && !shown.contains('\n'), "{shown:?}");
        }
    }
    (result, parser.status(), parser.body().to_vec(), parser.is_done(), parser.is_cut())
}

/// `answer` in pieces of 1 to 32 bytes, their sizes from a generator seeded with `seed`.
fn pieces(answer: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 1 << 8;
    let mut rest = answer;
    let mut pieces = Vec::new();
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = ((state >> 16) % 32 + 1) as usize;
        let (piece, after) = rest.split_at(size.min(rest.len()));
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// One input: panics (an assertion) if what must hold does not.
pub fn run(data: &[u8]) {
    let Some((&seed, answer)) = data.split_first() else { return };
    let whole = read([answer]);
    let cut = read(pieces(answer, seed));
    match (&whole, &cut) {
        ((Err(Error::StatusLine(_)), ..), (Err(Error::StatusLine(_)), ..)) => {
            assert_eq!((whole.1, &whole.2, whole.3, whole.4), (cut.1, &cut.2, cut.3, cut.4));
        }
        _ => assert_eq!(whole, cut),
    }
}
