/** Test double of k6/execution: the iteration counter scripts read. */
export default { scenario: { iterationInTest: 0 } };
