package testenv

// DataKey is the data key (encryption.data-key) of the bots and stores tests start:
// case content is sealed in their databases as in production.
const DataKey = "testenv-data-key-0123456789abcdefghij"
