//! OTLP v1 protobuf encoders (being written).
