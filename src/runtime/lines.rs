//! Framing of stdin into messages, sans-IO: bytes in as they arrive, whole lines
//! out, never holding more than the line limit of one line. A longer line is
//! discarded as it streams by and reported as `Oversized`; empty lines are skipped.

use crate::mcp::Input;
use std::collections::VecDeque;

/// Splits a byte stream on `\n` into [`Input`]s.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    /// The line so far (never longer than `max`).
    line: Vec<u8>,
    /// Bytes seen of a line already over the limit.
    oversized: Option<usize>,
    max: usize,
}

impl LineSplitter {
    /// A splitter for lines of at most `max` bytes.
    pub(crate) fn new(max: usize) -> LineSplitter {
        LineSplitter {
            line: Vec::new(),
            oversized: None,
            max,
        }
    }

    /// Takes the next bytes read, appending every line they complete to `out`.
    pub(crate) fn push(&mut self, mut bytes: &[u8], out: &mut VecDeque<Input>) {
        while !bytes.is_empty() {
            let (chunk, complete) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], true),
                None => (bytes, false),
            };
            match self.oversized.as_mut() {
                Some(seen) => *seen += chunk.len(),
                None if self.line.len() + chunk.len() > self.max => {
                    self.oversized = Some(self.line.len() + chunk.len());
                    self.line = Vec::new();
                }
                None => self.line.extend_from_slice(chunk),
            }
            bytes = &bytes[chunk.len() + usize::from(complete)..];
            if complete {
                self.emit(out);
            }
        }
    }

    /// The stream ended: a last line without its newline still counts.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<Input>) {
        self.emit(out);
    }

    fn emit(&mut self, out: &mut VecDeque<Input>) {
        match self.oversized.take() {
            Some(bytes) => out.push_back(Input::Oversized { bytes }),
            None if self.line.is_empty() || self.line.as_slice() == b"\r" => self.line.clear(),
            None => out.push_back(Input::Line(std::mem::take(&mut self.line))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], max: usize, read_size: usize) -> Vec<Input> {
        let mut splitter = LineSplitter::new(max);
        let mut out = VecDeque::new();
        for chunk in input.chunks(read_size) {
            splitter.push(chunk, &mut out);
        }
        splitter.finish(&mut out);
        out.into()
    }

    #[test]
    fn lines_are_split_bounded_and_oversized_ones_reported() {
        let line = |s: &str| Input::Line(s.as_bytes().to_vec());
        let cases: &[(&[u8], Vec<Input>)] = &[
            (b"a\nbb\n", vec![line("a"), line("bb")]),
            (b"a\n\n\r\nb", vec![line("a"), line("b")]),
            (b"12345678\nok\n", vec![line("12345678"), line("ok")]),
            (
                b"123456789\nok\n",
                vec![Input::Oversized { bytes: 9 }, line("ok")],
            ),
            (
                b"ok\n123456789012",
                vec![line("ok"), Input::Oversized { bytes: 12 }],
            ),
            (b"", vec![]),
            (b"\n\n\n", vec![]),
        ];
        for read_size in [1, 3, 64] {
            for (input, want) in cases {
                assert_eq!(
                    &split(input, 8, read_size),
                    want,
                    "input {:?} read {read_size} bytes at a time",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn an_oversized_line_holds_no_more_than_the_limit() {
        let mut splitter = LineSplitter::new(8);
        let mut out = VecDeque::new();
        for _ in 0..1000 {
            splitter.push(&[b'x'; 1024], &mut out);
            assert!(
                splitter.line.capacity() <= 16,
                "a line over the limit is not buffered"
            );
        }
        splitter.push(b"\n", &mut out);
        assert_eq!(
            Vec::from(out),
            vec![Input::Oversized { bytes: 1024 * 1000 }]
        );
    }
}
